/**
 * The browser demo, driven headless: Debian's chromium (via playwright-core,
 * no browser download) opens the page built by web/build.mjs around a tiny
 * exported model, clicks catalogue items and recommendations, and after each
 * click the page's list must change as the engine's does in Node — same items,
 * same scores. Skipped, with the reason shown, when /usr/bin/chromium is absent
 * (`npm run test:browser` installs it); in CI (CI=true) its absence is a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { exportSize } from '../src/deploy/export';
import { countRule, PairCounts } from '../src/model/count-prior';
import { loadModelFolder } from '../src/serve/model-folder';
import type { RankedItem } from '../src/serve/top-k';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';
import { requirePresent, skipUnlessPresent } from './real-data';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };

/** A static file server for `dir` on a free port of 127.0.0.1. */
async function serveStatic(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/\/$/, '/index.html')));
    if (!file.startsWith(dir) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const missing = skipUnlessPresent(CHROMIUM, `chromium not found at ${CHROMIUM}; "npm run test:browser" installs it (apt) and runs this test`);

test('browser demo: each click updates the recommendations, exactly as the engine does in Node', { skip: missing, timeout: 60_000 }, async () => {
  requirePresent(CHROMIUM, 'chromium');
  const tiny = tinyModel({ dims: [4, 8, 16], numBlocks: 2 });
  const dir = tempDir('browser');
  const modelDir = path.join(dir, 'model');
  // With a count prior, as the default model has: the page must fetch its pairs and pass the clicks as the history.
  const rule = countRule('followers', { window: 2, context: 2 });
  const countPrior = {
    rule: 'followers' as const,
    reach: { window: 2, context: 2 },
    beta: { '4': 1, '8': 1, '16': 2 },
    counts: PairCounts.fromHistories(tiny.dataset.sequences, rule),
  };
  exportSize({ ...tinySource(tiny), countPrior }, 16, modelDir);
  const site = path.join(dir, 'site');
  const build = spawnSync(process.execPath, [path.join(ROOT, 'web', 'build.mjs'), '--model', modelDir, '--out', site], { encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);

  const { engine } = loadModelFolder(modelDir);
  const stream = engine.startStream(16);
  const history: number[] = [];
  assert.ok(engine.countPrior, 'the exported model has its count prior');
  const expected = (): RankedItem[] => engine.rank(engine.streamVector(stream), 16, { k: 10, exclude: history, history });

  const server = await serveStatic(site);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(server.url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    const shown = async (): Promise<RankedItem[]> => page.evaluate('window.fmrlrecDemo.recommendations()') as Promise<RankedItem[]>;
    const listed = async (): Promise<number[]> => await page.$$eval('#recommendations li', (lis) => lis.map((li) => Number(li.getAttribute('data-id'))));
    let priorMoved = 0;
    const check = async (what: string) => {
      const want = expected();
      const networkOnly = engine.rank(engine.streamVector(stream), 16, { k: 10, exclude: history });
      if (want.map((r) => r.id).join() !== networkOnly.map((r) => r.id).join()) priorMoved++;
      const got = await shown();
      assert.deepEqual(
        got.map((r) => r.id),
        want.map((r) => r.id),
        what,
      );
      got.forEach((r, i) => assert.ok(Math.abs(r.score - want[i].score) <= 1e-6, `${what}: score of item ${r.id}`));
      assert.deepEqual(
        await listed(),
        want.map((r) => r.id),
        `${what}: the page lists what the engine ranks`,
      );
      return got.map((r) => r.id).join(',');
    };

    const lists = [await check('before any click')];
    for (const [where, pick] of [
      ['catalogue', 3],
      ['recommendations', 0],
      ['catalogue', 7],
    ] as const) {
      const li = page.locator(`#${where} li`).nth(pick);
      const id = Number(await li.getAttribute('data-id'));
      await li.click();
      history.push(id);
      engine.push(stream, id);
      await page.waitForFunction(`window.fmrlrecDemo.history().length === ${history.length}`);
      lists.push(await check(`after clicking item ${id} in the ${where}`));
    }
    assert.deepEqual(await page.evaluate('window.fmrlrecDemo.history()'), history);
    assert.ok(new Set(lists).size > 1, 'the recommendations changed after the clicks');
    assert.ok(priorMoved > 0, "the count prior changed none of the page's recommendations");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
  }
});
