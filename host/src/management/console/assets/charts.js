// Small live charts: inline SVG sparklines, drawn from the last samples.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 120;
const HEIGHT = 28;

/**
 * A sparkline of one or more series (arrays of numbers or nulls, oldest
 * first, each `length` long at most), scaled together from 0 to their
 * largest value; `title` is its tooltip.
 */
export function sparkline(series, length, title) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('width', WIDTH);
  svg.setAttribute('height', HEIGHT);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const tooltip = document.createElementNS(SVG, 'title');
  tooltip.textContent = title;
  const frame = document.createElementNS(SVG, 'rect');
  frame.setAttribute('width', WIDTH);
  frame.setAttribute('height', HEIGHT);
  frame.setAttribute('class', 'frame');
  svg.append(tooltip, frame);
  const max = Math.max(0, ...series.flat().filter((value) => value !== null)) || 1;
  const step = WIDTH / Math.max(1, length - 1);
  series.forEach((values, index) => {
    const offset = length - values.length;
    const points = values
      .map((value, at) => (value === null ? null : [(offset + at) * step, HEIGHT - 1 - (value / max) * (HEIGHT - 2)]))
      .filter((point) => point !== null)
      .map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', points.join(' '));
    line.setAttribute('class', `series-${index}`);
    svg.append(line);
  });
  return svg;
}
