// A browser page authenticating to the gateway through the subprotocol, as
// a web application does (a browser cannot set headers on a WebSocket), for
// tests/tests/jwt_browser.rs, which starts the gateway with the JWT
// authorizer at $connect and the probe at whoami:
//
//   node jwt-subprotocol.js PAGE_URL WS_URL TOKEN EXPIRED_TOKEN   (CHROMIUM: the browser)
//
// In headless Chromium, the page (an application's, from PAGE_URL: Chromium
// lets only a page of a local address open a connection to one) opens `new WebSocket(WS_URL, ["chat.v1",
// "bearer." + TOKEN])` and prints a line for each step: `protocol P` (the
// subprotocol the handshake answered, as the page sees it), `context JSON`
// (the connection context the probe's whoami reports), then, after trying
// the same with EXPIRED_TOKEN, `refused CODE` (the close event's code: a
// page is not told the 401), and `done`. Any error fails the script (exit 1).

import { chromium } from 'playwright-core';

const [pageUrl, url, token, expired] = process.argv.slice(2);
const STEP = 15_000;

function say(line) {
  process.stdout.write(`${line}\n`);
}

/** Runs in the page: connects offering the application's subprotocol and
 * the token entry, asks whoami, closes; what it saw. */
function authenticate({ url, token }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['chat.v1', `bearer.${token}`]);
    ws.onopen = () => ws.send(JSON.stringify({ action: 'whoami' }));
    ws.onmessage = (event) => {
      const { context } = JSON.parse(event.data);
      ws.close(1000);
      resolve({ protocol: ws.protocol, context });
    };
    ws.onclose = (event) => reject(new Error(`closed with ${event.code} before whoami answered`));
  });
}

/** Runs in the page: connects with a token the gateway refuses; the close
 * event's code. */
function refused({ url, token }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['chat.v1', `bearer.${token}`]);
    ws.onopen = () => reject(new Error('the connection was accepted'));
    ws.onclose = (event) => resolve(event.code);
  });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  // As root (CI), Chromium runs only without its sandbox.
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP);
  await page.goto(pageUrl);
  const { protocol, context } = await page.evaluate(authenticate, { url, token });
  say(`protocol ${protocol}`);
  const sorted = Object.fromEntries(Object.entries(context).sort());
  say(`context ${JSON.stringify(sorted)}`);
  say(`refused ${await page.evaluate(refused, { url, token: expired })}`);
  say('done');
} catch (error) {
  process.stderr.write(`the subprotocol test failed: ${error.stack || error}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
  process.exit();
}
