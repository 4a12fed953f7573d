// The live tail: the access log's records as they happen (`GET /@tail`,
// server-sent events), filtered by route, connection and status. The stream
// runs from the first time the view is shown until stopped; the server tells
// when it had to drop records because this page fell behind.

import { follow } from './api.js';
import { el, field, when } from './dom.js';

/** Rows kept on the page. */
const KEPT = 500;
/** Seconds before following again after the stream failed. */
const RETRY = 2;

let running = null;

function summary(record) {
  if (record.eventType === 'SWAP') {
    return `${record.change} ${record.component || ''} generation ${record.generation ?? '–'}`;
  }
  const parts = [];
  if (record.integrationLatency !== null && record.integrationLatency !== undefined) {
    parts.push(`${record.integrationLatency} ms`);
  }
  if (record.errorMessage) parts.push(record.errorMessage);
  if (record.disconnectStatusCode !== null && record.disconnectStatusCode !== undefined) {
    parts.push(`closed ${record.disconnectStatusCode} ${record.disconnectReason || ''}`.trim());
  }
  return parts.join(' · ');
}

function add(view, row) {
  const rows = view.querySelector('#tail-rows');
  rows.prepend(row);
  while (rows.children.length > KEPT) rows.lastElementChild.remove();
}

function recordRow(record) {
  const status = record.status ?? '';
  return el(
    'tr',
    { class: `status-${String(status).charAt(0) || 'none'}`, 'data-event': record.eventType },
    el('td', {}, when(record.requestTimeEpoch)),
    el('td', {}, record.eventType),
    el('td', {}, el('code', {}, record.routeKey)),
    el('td', {}, el('code', {}, record.connectionId || '')),
    el('td', {}, String(status)),
    el('td', {}, summary(record)),
  );
}

function setState(view, text) {
  view.querySelector('#tail-state').textContent = text;
}

/** Follows the tail with the form's filters until stopped. */
function run(view) {
  const form = view.querySelector('#tail-filters');
  const query = { route: field(form, 'route'), connection: field(form, 'connection'), status: field(form, 'status') };
  const controller = new AbortController();
  running = controller;
  const attempt = async () => {
    while (!controller.signal.aborted) {
      try {
        await follow(query, {
          signal: controller.signal,
          onOpen: () => setState(view, 'following'),
          onRecord: (record) => add(view, recordRow(record)),
          onLost: (lost) => add(view, el('tr', { class: 'lost' }, el('td', { colspan: 6 }, `${lost} records lost: this page fell behind`))),
        });
      } catch (error) {
        setState(view, `interrupted (${error.message}); following again`);
        await new Promise((resume) => setTimeout(resume, RETRY * 1000));
      }
    }
    setState(view, 'stopped');
  };
  attempt();
}

function stop() {
  if (running) running.abort();
  running = null;
}

/** Follows the tail for `connection` only. */
export function watchConnection(view, connection) {
  view.querySelector('#tail-filters').elements.connection.value = connection;
  stop();
  run(view);
}

/** Sets the view up; `shown()` starts following the first time. */
export function start(view) {
  view.querySelector('#tail-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    stop();
    run(view);
  });
  view.querySelector('#tail-stop').addEventListener('click', stop);
  view.querySelector('#tail-clear').addEventListener('click', () => view.querySelector('#tail-rows').replaceChildren());
  let started = false;
  return {
    shown() {
      if (!started) run(view);
      started = true;
    },
  };
}
