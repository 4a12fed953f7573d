// The routes view: each route's component, version, generation and load
// time, its recent swaps, and live charts of its message rate, error rate
// and handler latency (p50 and p99), from `GET /@routes` and `GET /metrics`.

import { metricsText, request } from './api.js';
import { sparkline } from './charts.js';
import { el, fill, num, when } from './dom.js';
import { byRoute, interval, parse } from './metrics.js';

/** Seconds between two scrapes. */
const PERIOD = 2;
/** Points per chart: two minutes. */
const POINTS = 60;

const history = new Map();
let previous = null;

/** Scrapes the metrics and adds one point per route to its charts. */
async function sample() {
  const now = performance.now();
  const routes = byRoute(parse(await metricsText()));
  if (previous) {
    const seconds = (now - previous.time) / 1000;
    for (const [route, counts] of routes) {
      const hook = route === '$connect' || route === '$disconnect';
      const point = interval(previous.routes.get(route), counts, seconds, hook);
      const points = history.get(route) || [];
      points.push(point);
      history.set(route, points.slice(-POINTS));
    }
  }
  previous = { time: now, routes };
}

function charts(route) {
  const points = history.get(route) || [];
  const last = points[points.length - 1] || {};
  const series = (key) => points.map((point) => point[key]);
  return [
    el('td', { class: 'chart' }, sparkline([series('rate')], POINTS, 'events per second'), el('span', {}, `${num(last.rate)}/s`)),
    el('td', { class: 'chart' }, sparkline([series('errors')], POINTS, 'errors per second'), el('span', {}, `${num(last.errors)}/s`)),
    el(
      'td',
      { class: 'chart' },
      sparkline([series('p50'), series('p99')], POINTS, 'handler latency p50 and p99 (ms)'),
      el('span', {}, `${num(last.p50, 2)} / ${num(last.p99, 2)} ms`),
    ),
  ];
}

function routeRow(route) {
  return el(
    'tr',
    { 'data-route': route.routeKey },
    el('td', {}, el('code', {}, route.routeKey)),
    el('td', {}, route.component),
    el('td', { title: route.version }, el('code', {}, route.version.slice(0, 12))),
    el('td', {}, String(route.generation)),
    el('td', {}, when(route.loadedAt)),
    charts(route.routeKey),
  );
}

function swapRow(swap) {
  return el(
    'tr',
    {},
    el('td', {}, when(swap.time)),
    el('td', {}, el('code', {}, swap.routeKey)),
    el('td', {}, swap.change),
    el('td', {}, swap.component || ''),
    el('td', { title: swap.version || '' }, el('code', {}, (swap.version || '').slice(0, 12))),
    el('td', {}, swap.generation === null ? '' : String(swap.generation)),
  );
}

function render(view, listing) {
  const rows = listing.routes.map(routeRow);
  fill(
    view.querySelector('#route-rows'),
    rows.length ? rows : el('tr', {}, el('td', { colspan: 8 }, 'No route is bound.')),
  );
  fill(view.querySelector('#swap-rows'), [...listing.swaps].reverse().map(swapRow));
}

/** Starts the view: a scrape and a listing every PERIOD seconds. */
export function start(view) {
  const tick = async () => {
    try {
      await sample();
      render(view, await request('GET', '/@routes'));
      view.querySelector('#routes-error').textContent = '';
    } catch (error) {
      view.querySelector('#routes-error').textContent = error.message;
    }
  };
  tick();
  return setInterval(tick, PERIOD * 1000);
}
