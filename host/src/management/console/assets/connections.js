// The connections view: a paginated, searchable list (`GET /@connections`
// with details), a connection's detail (`GET /@connections/{id}`), and what
// can be done to it: send a message, close it with a code and reason.

import { request, segment } from './api.js';
import { attempt, el, field, fill, notice, when } from './dom.js';

/** Seconds between refreshes of the list. */
const REFRESH = 2;

const state = { cursors: [null], at: 0, search: '', limit: 25, next: null, selected: null };

function contextText(context) {
  return Object.entries(context || {})
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

function row(connection, select) {
  const id = connection.connectionId;
  return el(
    'tr',
    { 'data-connection': id, class: id === state.selected ? 'selected' : null, onclick: () => select(id) },
    el('td', {}, el('code', {}, id)),
    el('td', {}, connection.identity.sourceIp),
    el('td', { class: 'agent', title: connection.identity.userAgent }, connection.identity.userAgent),
    el('td', {}, when(connection.connectedAt)),
    el('td', {}, when(connection.lastActiveAt)),
    el('td', {}, contextText(connection.context)),
    el('td', {}, connection.groups.join(', ')),
  );
}

async function list(view, select) {
  const page = await request('GET', '/@connections', {
    query: { details: 'true', limit: state.limit, cursor: state.cursors[state.at], search: state.search },
  });
  state.next = page.nextCursor;
  const rows = page.connections.map((connection) => row(connection, select));
  const empty = state.search ? 'No connection matches on this page.' : 'No connection.';
  fill(view.querySelector('#connection-rows'), rows.length ? rows : el('tr', {}, el('td', { colspan: 7 }, empty)));
  view.querySelector('#page-number').textContent = `page ${state.at + 1}`;
  view.querySelector('#previous-page').disabled = state.at === 0;
  view.querySelector('#next-page').disabled = !state.next;
}

function detailRows(connection) {
  const item = (name, value) => [el('dt', {}, name), el('dd', {}, value)];
  return [
    item('Id', el('code', { id: 'detail-id' }, connection.connectionId)),
    item('Source IP', connection.identity.sourceIp),
    item('User agent', connection.identity.userAgent),
    item('Connected at', when(connection.connectedAt)),
    item('Last active', when(connection.lastActiveAt)),
    item('Context', el('pre', {}, JSON.stringify(connection.context, null, 2))),
    item('Groups', connection.groups.join(', ') || '—'),
  ].flat();
}

async function show(view, id) {
  const detail = view.querySelector('#connection-detail');
  try {
    const connection = await request('GET', `/@connections/${segment(id)}`);
    fill(detail.querySelector('dl'), detailRows(connection));
    detail.querySelector('#detail-state').textContent = 'open';
  } catch (error) {
    if (error.status !== 410) throw error;
    detail.querySelector('#detail-state').textContent = 'gone';
  }
  detail.hidden = false;
}

/** Starts the view; `watch(id)` shows a connection's events in the tail. */
export function start(view, watch) {
  const refresh = () => list(view, select).catch((error) => notice(error.message, true));
  const select = (id) => {
    state.selected = id;
    attempt(null, () => show(view, id));
    refresh();
  };
  const go = (at) => {
    state.at = at;
    refresh();
  };
  view.querySelector('#connection-search').addEventListener('submit', (event) => {
    event.preventDefault();
    state.search = field(event.target, 'search');
    state.limit = Number(field(event.target, 'limit'));
    state.cursors = [null];
    go(0);
  });
  view.querySelector('#previous-page').addEventListener('click', () => go(Math.max(0, state.at - 1)));
  view.querySelector('#next-page').addEventListener('click', () => {
    state.cursors[state.at + 1] = state.next;
    go(state.at + 1);
  });
  view.querySelector('#send-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = event.target.elements.message.value;
    attempt('Sent.', () => request('POST', `/@connections/${segment(state.selected)}`, { body }));
  });
  view.querySelector('#close-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const query = { code: field(event.target, 'code'), reason: field(event.target, 'reason') };
    attempt('Closed.', async () => {
      await request('DELETE', `/@connections/${segment(state.selected)}`, { query });
      await show(view, state.selected);
      await refresh();
    });
  });
  view.querySelector('#watch-connection').addEventListener('click', () => watch(state.selected));
  refresh();
  return setInterval(refresh, REFRESH * 1000);
}
