// Screenshot of the built demo for the docs: `node web/screenshot.mjs [--site web/dist] [--out docs/demo.png] [--search nail]`.
// Serves <site> (built by `npm run build:web -- --model <size folder>`) on 127.0.0.1, opens it in
// Debian's chromium (playwright-core), searches the catalogue, clicks two items and saves a PNG.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: { site: { type: 'string', default: 'web/dist' }, out: { type: 'string', default: 'docs/demo.png' }, search: { type: 'string', default: 'nail' } },
});
const site = path.resolve(values.site);
if (!fs.existsSync(path.join(site, 'model', 'config.json'))) {
  process.stderr.write(`screenshot: ${site} has no model; build it with "npm run build:web -- --model <size folder>"\n`);
  process.exit(1);
}
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };
const server = http.createServer((req, res) => {
  const file = path.join(site, decodeURIComponent(new URL(req.url, 'http://x').pathname.replace(/\/$/, '/index.html')));
  if (!file.startsWith(site) || !fs.existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 760 } });
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#search', values.search);
  await page.locator('#catalogue li').nth(0).click();
  await page.locator('#catalogue li').nth(2).click();
  await page.waitForFunction('window.fmrlrecDemo.history().length === 2');
  await page.screenshot({ path: values.out });
  process.stdout.write(`wrote ${values.out}\n`);
} finally {
  await browser.close();
  server.close();
}
