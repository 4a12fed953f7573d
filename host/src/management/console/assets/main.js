// The console's entry point: asks for the API token when the API wants one,
// then starts the four views and switches between them.

import { ApiError, request, setToken, token, whenDenied } from './api.js';
import * as connections from './connections.js';
import * as groups from './groups.js';
import * as routes from './routes.js';
import * as tail from './tail.js';

const VIEWS = ['routes', 'connections', 'groups', 'tail'];

function view(name) {
  return document.getElementById(`${name}-view`);
}

/** Whether the API answers with the current token (or none). */
async function admitted() {
  try {
    await request('GET', '/@routes');
    return true;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return false;
    throw error;
  }
}

function askForToken(message) {
  document.getElementById('login').hidden = false;
  document.getElementById('console').hidden = true;
  document.getElementById('login-error').textContent = message;
  document.getElementById('token').focus();
}

let tailView = null;

function show(name) {
  const shown = VIEWS.includes(name) ? name : 'routes';
  for (const other of VIEWS) {
    view(other).hidden = other !== shown;
    document.querySelector(`[data-tab="${other}"]`).setAttribute('aria-selected', String(other === shown));
  }
  if (shown === 'tail') tailView.shown();
}

let started = false;

function startViews() {
  document.getElementById('login').hidden = true;
  document.getElementById('console').hidden = false;
  document.getElementById('forget-token').hidden = !token();
  if (started) return;
  started = true;
  tailView = tail.start(view('tail'));
  routes.start(view('routes'));
  connections.start(view('connections'), (id) => {
    tail.watchConnection(view('tail'), id);
    location.hash = 'tail';
  });
  groups.start(view('groups'));
  for (const name of VIEWS) {
    document.querySelector(`[data-tab="${name}"]`).addEventListener('click', () => {
      location.hash = name;
    });
  }
  window.addEventListener('hashchange', () => show(location.hash.slice(1)));
  show(location.hash.slice(1));
}

async function main() {
  whenDenied(() => askForToken('The API refused the token: enter a valid one.'));
  document.getElementById('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    setToken(document.getElementById('token').value.trim());
    if (await admitted()) startViews();
    else askForToken('The API refused this token.');
  });
  document.getElementById('forget-token').addEventListener('click', () => {
    setToken('');
    location.reload();
  });
  if (await admitted()) startViews();
  else askForToken(token() ? 'The API refused the saved token.' : '');
}

main().catch((error) => {
  document.getElementById('notice').textContent = `The console cannot start: ${error.message}`;
});
