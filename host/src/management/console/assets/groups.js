// The groups view: the groups that have members (`GET /@groups`, paginated),
// a group's members, sending to a group and broadcasting to everyone.

import { request, segment } from './api.js';
import { attempt, el, field, fill, notice } from './dom.js';

const state = { cursors: [null], at: 0, next: null, selected: null };

async function list(view, select) {
  const page = await request('GET', '/@groups', { query: { cursor: state.cursors[state.at], limit: 50 } });
  state.next = page.nextCursor;
  const items = page.groups.map((group) =>
    el('li', {}, el('button', { type: 'button', class: 'link', 'data-group': group, onclick: () => select(group) }, group)),
  );
  fill(view.querySelector('#group-list'), items.length ? items : el('li', {}, 'No group has members.'));
  view.querySelector('#groups-next').disabled = !state.next;
  view.querySelector('#groups-previous').disabled = state.at === 0;
}

async function members(view, group) {
  const ids = [];
  let cursor = null;
  do {
    const page = await request('GET', `/@groups/${segment(group)}`, { query: { cursor, limit: 1000 } });
    ids.push(...page.connectionIds);
    cursor = page.nextCursor;
  } while (cursor && ids.length < 5000);
  view.querySelector('#group-name').textContent = group;
  const items = ids.map((id) => el('li', {}, el('code', {}, id)));
  fill(view.querySelector('#member-list'), items.length ? items : el('li', {}, 'No members any more.'));
  view.querySelector('#group-detail').hidden = false;
}

/** Starts the view. */
export function start(view) {
  const refresh = () => list(view, select).catch((error) => notice(error.message, true));
  const select = (group) => {
    state.selected = group;
    attempt(null, () => members(view, group));
  };
  view.querySelector('#groups-refresh').addEventListener('click', () => {
    refresh();
    if (state.selected) select(state.selected);
  });
  view.querySelector('#groups-previous').addEventListener('click', () => {
    state.at = Math.max(0, state.at - 1);
    refresh();
  });
  view.querySelector('#groups-next').addEventListener('click', () => {
    state.cursors[state.at + 1] = state.next;
    state.at += 1;
    refresh();
  });
  view.querySelector('#group-send').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = event.target.elements.message.value;
    attempt(`Sent to ${state.selected}.`, () => request('POST', `/@groups/${segment(state.selected)}`, { body }));
  });
  view.querySelector('#broadcast').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = event.target.elements.message.value;
    const exclude = field(event.target, 'exclude');
    attempt('Broadcast.', () => request('POST', '/@broadcast', { body, query: { exclude } }));
  });
  refresh();
}
