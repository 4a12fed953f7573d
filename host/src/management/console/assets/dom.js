// Small DOM helpers. Everything shown comes from clients (user agents,
// context values, group names), so text is only ever set as text.

/** A new element: `props` are attributes (`on…` ones are listeners), `children` nodes or text. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

/** Replaces the children of `node` with `children`. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined));
}

/** An ISO-8601 time or epoch milliseconds as local date and time. */
export function when(time) {
  if (time === null || time === undefined) return '';
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toLocaleString();
}

/** A number for a table cell: at most `digits` decimals, `–` when unknown. */
export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Number(value.toFixed(digits)).toLocaleString();
}

/** Shows `text` in the page's notice line, as an error when `error`. */
export function notice(text, error = false) {
  const line = document.getElementById('notice');
  line.textContent = text;
  line.classList.toggle('error', error);
}

/** Runs `action`, reporting its success or its error in the notice line. */
export async function attempt(done, action) {
  try {
    await action();
    if (done) notice(done);
  } catch (error) {
    notice(error.message, true);
  }
}

/** The value of a form's field, trimmed. */
export function field(form, name) {
  return form.elements[name].value.trim();
}
