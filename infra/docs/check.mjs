// Reads the page `make docs` built as a reader would, in headless Chromium driven by playwright-core (pinned in
// infra/docs/package.json): infra/docs/check runs this with what must be on the page, as JSON on stdin, and reports.
//
// It opens the page from the file system, takes a screenshot of the overview, then clicks each operation in the
// sidebar, waits for the operation's method and path to show, takes a screenshot and reads the operation's text.
// Every request the page makes is recorded. It prints one JSON object: what it found missing and what was fetched.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const expected = JSON.parse(readFileSync(0, 'utf8'));
const require = createRequire(expected.tools);
const { chromium } = require('playwright-core');

// A loaded 2-core machine renders slowly; these bound a hung browser, not a slow one.
const TIMEOUT_MS = 120_000;
const squeeze = (text) => text.split(/\s+/).filter(Boolean).join(' ');

const browser = await chromium.launch({
  executablePath: expected.chromium,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic'],
});
const missing = [];
const fetched = new Set();
const errors = [];
let operations = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('request', (request) => {
    if (/^(https?|wss?):/.test(request.url())) fetched.add(request.url());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(pathToFileURL(expected.page).href, { waitUntil: 'load' });
  await page.locator('main').waitFor();
  await page.screenshot({ path: join(expected.out, 'screenshot.png'), fullPage: true });
  const overview = squeeze(await page.locator('main').innerText());
  for (const problem of expected.problems) {
    if (!overview.includes(problem)) missing.push(`problem type ${problem} (on the overview's Errors section)`);
  }

  for (const operation of expected.operations) {
    const route = `${operation.method} ${operation.path}`;
    const link = page.locator('a:not(main a)').filter({ hasText: operation.summary });
    if ((await link.count()) === 0) {
      missing.push(`${route}: no sidebar entry "${operation.summary}"`);
      continue;
    }
    await link.first().click();
    // The operation's own heading, then its method and path beside the code samples.
    const heading = page.locator('main h1, main h2').filter({ hasText: operation.summary }).first();
    try {
      await heading.waitFor();
    } catch {
      missing.push(`${route}: clicking "${operation.summary}" showed no such heading`);
      continue;
    }
    const section = squeeze(await page.locator('main').innerText());
    const at = section.indexOf(operation.summary);
    // Its part of the page: from its heading to the next operation's.
    const next = expected.operations
      .map((other) => section.indexOf(other.summary, at + operation.summary.length))
      .filter((index) => index > at)
      .reduce((a, b) => Math.min(a, b), section.length);
    const own = section.slice(at, next);
    if (!own.includes(route)) missing.push(`${route}: its method and path`);
    for (const sample of operation.samples) {
      if (!own.includes(sample)) missing.push(`${route}: the README example \`${sample}\``);
    }
    await page.screenshot({ path: join(expected.out, 'pages', `${operation.slug}.png`) });
    operations += 1;
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ missing, fetched: [...fetched].sort(), errors, operations }));
