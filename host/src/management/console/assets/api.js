// The management API as the console uses it: every request carries the
// token the operator entered (kept in this tab's session storage only), and
// a 401 or 403 sends the operator back to the token prompt.

const TOKEN_KEY = 'wsgate.console.token';

/** The API's answer to a request that failed. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let onDenied = () => {};

/** Calls `handler(error)` whenever the API refuses the token. */
export function whenDenied(handler) {
  onDenied = handler;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const all = { ...extra };
  if (token()) all.Authorization = `Bearer ${token()}`;
  return all;
}

/** `path` with the query parameters of `query` that are set. */
export function withQuery(path, query = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Percent-encodes one path segment (ids end in `=`, group names may hold anything). */
export function segment(text) {
  return encodeURIComponent(text);
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.message) message = body.message;
  } catch {
    // Not JSON: the status says enough.
  }
  const error = new ApiError(response.status, message);
  if (response.status === 401 || response.status === 403) onDenied(error);
  return error;
}

/** A request to the API: the parsed JSON answer, or null for an empty one. */
export async function request(method, path, { query, body } = {}) {
  const response = await fetch(withQuery(path, query), {
    method,
    headers: headers(body === undefined ? {} : { 'Content-Type': 'text/plain; charset=utf-8' }),
    body,
    cache: 'no-store',
  });
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** `GET /metrics` as text (no credentials needed). */
export async function metricsText() {
  const response = await fetch('/metrics', {
    headers: { Accept: 'text/plain; version=0.0.4' },
    cache: 'no-store',
  });
  if (!response.ok) throw await failure(response);
  return response.text();
}

/**
 * Follows `GET /@tail` (server-sent events, read with fetch so that the token
 * can be sent): calls `onRecord(record)` per record, `onLost(count)` when the
 * server says records were lost, `onOpen()` once the stream is open; resolves
 * when `signal` aborts it, rejects if the stream fails.
 */
export async function follow(query, { signal, onOpen, onRecord, onLost }) {
  const response = await fetch(withQuery('/@tail', query), {
    headers: headers({ Accept: 'text/event-stream' }),
    cache: 'no-store',
    signal,
  });
  if (!response.ok) throw await failure(response);
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the tail ended');
      buffered += value;
      let end;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        dispatch(buffered.slice(0, end), onRecord, onLost);
        buffered = buffered.slice(end + 2);
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  }
}

/** One server-sent event: its `event:` and `data:` lines (comments skipped). */
function dispatch(block, onRecord, onLost) {
  let kind = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) kind = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return;
  const parsed = JSON.parse(data.join('\n'));
  if (kind === 'lost') onLost(parsed.lost);
  else onRecord(parsed);
}
