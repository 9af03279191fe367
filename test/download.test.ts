/** The one retrying download loop (src/util/download.ts), against a local HTTP server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadBytes, downloadFile, HttpStatusError } from '../src/util/download';

/** A server whose answer to the n-th request (from 1) for a path is `answer(path, n)`. */
async function withServer(
  answer: (url: string, n: number) => { status: number; body?: string },
  run: (base: string, counts: Map<string, number>) => Promise<void>,
): Promise<void> {
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const n = (counts.get(url) ?? 0) + 1;
    counts.set(url, n);
    const { status, body = '' } = answer(url, n);
    res.writeHead(status, { 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, counts);
  } finally {
    server.close();
  }
}

test('a failing attempt is retried; a 404 is not; the last failure is thrown', async () => {
  await withServer(
    (url, n) => (url === '/flaky' && n < 3 ? { status: 503 } : url === '/flaky' ? { status: 200, body: 'payload' } : { status: 404 }),
    async (base, counts) => {
      const bytes = await downloadBytes(`${base}/flaky`, { backoffMs: 1 });
      assert.equal(Buffer.from(bytes).toString(), 'payload');
      assert.equal(counts.get('/flaky'), 3);
      await assert.rejects(downloadBytes(`${base}/gone`, { backoffMs: 1 }), (err: unknown) => err instanceof HttpStatusError && err.status === 404);
      assert.equal(counts.get('/gone'), 1);
    },
  );
  await withServer(
    () => ({ status: 500 }),
    async (base, counts) => {
      await assert.rejects(downloadBytes(`${base}/down`, { attempts: 2, backoffMs: 1 }), /HTTP 500 from/);
      assert.equal(counts.get('/down'), 2);
    },
  );
});

test('downloadFile: the file appears only when complete, with progress reported', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-download-'));
  const body = 'x'.repeat(100_000);
  await withServer(
    (url) => (url === '/big' ? { status: 200, body } : { status: 404 }),
    async (base) => {
      const seen: number[] = [];
      const file = path.join(dir, 'sub', 'big.txt');
      await downloadFile(`${base}/big`, file, {
        onProgress: (received, total) => {
          seen.push(received);
          assert.equal(total, body.length);
        },
      });
      assert.equal(fs.readFileSync(file, 'utf8'), body);
      assert.equal(seen[seen.length - 1], body.length);
      await assert.rejects(downloadFile(`${base}/none`, path.join(dir, 'none.txt'), { backoffMs: 1 }), /HTTP 404/);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['sub']);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'sub')), ['big.txt']);
    },
  );
});
