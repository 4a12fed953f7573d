// Drives the web console in headless Chromium, as an operator would, for
// tests/tests/console.rs, which starts the gateway and its client and talks
// to this script over its standard streams:
//
//   node console.js CONSOLE_URL TOKEN SCREENSHOT_DIR   (CHROMIUM: the browser)
//
// The script prints a line when the page reached a step (`ready`, `sent`,
// `sent-to-group`, `closed`, `done`) and reads a line when the test must
// act first (the connection's id once the client connected; `received` once
// the client got what the page sent). A screenshot of each step goes to
// SCREENSHOT_DIR. Any error on the page, or a step that does not happen in
// time, fails the script (exit 1) with a screenshot of where it stood.

import readline from 'node:readline';
import { chromium } from 'playwright-core';

const [url, token, screenshots] = process.argv.slice(2);
const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
/** Waits for a step of this long at most. */
const STEP = 15_000;

async function read() {
  const { value, done } = await input.next();
  if (done) throw new Error('the test closed the script\'s input');
  return value.trim();
}

async function expectLine(wanted) {
  const line = await read();
  if (line !== wanted) throw new Error(`expected \`${wanted}\` from the test, got \`${line}\``);
}

function say(line) {
  process.stdout.write(`${line}\n`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  // As root (CI), Chromium runs only without its sandbox.
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
page.setDefaultTimeout(STEP);
const problems = [];
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
// Expected refusals: the token prompt's (401, 403), and the closed
// connection's detail (410).
page.on('response', (response) => {
  if (response.status() >= 400 && ![401, 403, 410].includes(response.status())) {
    problems.push(`${response.status()} from ${response.request().method()} ${response.url()}`);
  }
});
page.on('console', (message) => {
  if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
    problems.push(`console error: ${message.text()}`);
  }
});
let shot = 0;
async function screenshot(name) {
  shot += 1;
  await page.screenshot({ path: `${screenshots}/${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
}

async function tab(name) {
  await page.click(`[data-tab="${name}"]`);
  await page.locator(`#${name}-view`).waitFor({ state: 'visible' });
}

try {
  await page.goto(`${url}/console`);
  // The API wants a token: a wrong one is refused, the right one opens it.
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.fill('#token', 'not-the-token');
  await page.click('#login-form button[type="submit"]');
  await page.locator('#login-error', { hasText: 'refused' }).waitFor();
  await screenshot('token-refused');
  await page.fill('#token', token);
  await page.click('#login-form button[type="submit"]');
  await page.locator('#console').waitFor({ state: 'visible' });

  // The tail follows from now on, whatever view is shown.
  await tab('tail');
  await page.locator('#tail-state', { hasText: 'following' }).waitFor();
  await tab('connections');
  await page.locator('#connection-rows', { hasText: 'No connection' }).waitFor();
  await screenshot('no-connections');
  say('ready');

  // The client connects: it appears, with its context and group.
  const id = await read();
  const row = page.locator(`tr[data-connection="${id}"]`);
  await row.waitFor();
  await row.locator('td', { hasText: 'user=ann' }).waitFor();
  await row.locator('td', { hasText: 'red' }).waitFor();
  await page.fill('#connection-search input[name="search"]', 'nobody-has-this');
  await page.click('#connection-search button[type="submit"]');
  await row.waitFor({ state: 'detached' });
  await page.fill('#connection-search input[name="search"]', 'ANN');
  await page.click('#connection-search button[type="submit"]');
  await row.waitFor();
  await screenshot('client-connected');

  // Its detail, and a message sent to it.
  await row.click();
  await page.locator('#detail-state', { hasText: 'open' }).waitFor();
  await page.locator('#detail-id', { hasText: id }).waitFor();
  await page.fill('#send-form textarea[name="message"]', 'hello from the console');
  await page.click('#send-form button[type="submit"]');
  await page.locator('#notice', { hasText: 'Sent.' }).waitFor();
  await screenshot('message-sent');
  say('sent');
  await expectLine('received');

  // Its group, and a message to the group.
  await tab('groups');
  await page.click('#groups-refresh');
  await page.click('[data-group="red"]');
  await page.locator('#member-list', { hasText: id }).waitFor();
  await page.fill('#group-send textarea[name="message"]', 'hello, red');
  await page.click('#group-send button[type="submit"]');
  await page.locator('#notice', { hasText: 'Sent to red.' }).waitFor();
  await screenshot('group');
  say('sent-to-group');
  await expectLine('received');

  // Closed from the page, with a code and reason.
  await tab('connections');
  await page.fill('#close-form input[name="code"]', '4001');
  await page.fill('#close-form input[name="reason"]', 'bye from the console');
  await page.click('#close-form button[type="submit"]');
  await page.locator('#detail-state', { hasText: 'gone' }).waitFor();
  await row.waitFor({ state: 'detached' });
  say('closed');

  // The tail saw it all: the connect, the messages and the disconnect.
  await tab('tail');
  const events = (kind) => page.locator(`#tail-rows tr[data-event="${kind}"]`, { hasText: id });
  await events('CONNECT').first().waitFor();
  await events('MESSAGE').first().waitFor();
  await events('DISCONNECT').locator('td', { hasText: 'closed 4001 bye from the console' }).waitFor();
  await screenshot('tail');

  // The routes, with their charts.
  await tab('routes');
  await page.locator('tr[data-route="whoami"] svg.spark').first().waitFor();
  await page.locator('#swap-rows tr', { hasText: 'bound' }).first().waitFor();
  await screenshot('routes');

  if (problems.length) throw new Error(problems.join('\n'));
  say('done');
} catch (error) {
  await screenshot('failure').catch(() => {});
  process.stderr.write(`the console test failed: ${error.stack || error}\n${problems.join('\n')}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
  process.exit();
}
