/**
 * The service's guards (src/serve/http-guard.ts): the bearer token of write
 * requests, CORS (preflights and response headers) and the access log, alone
 * and through the server; the CLI's --token / FMRLREC_TOKEN, --cors and --quiet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { exportAllSizes } from '../src/deploy/export';
import { accessLogLine, BearerToken, CorsPolicy, isWriteRequest } from '../src/serve/http-guard';
import { DEFAULT_SERVER_OPTIONS, RecommendServer, ServerOptions } from '../src/serve/http-server';
import { loadModelFolder } from '../src/serve/model-folder';
import { UserError } from '../src/util/errors';
import { tempDir, tinyModel, tinySource } from './deploy-fixtures';

const TOKEN = 'guard-test-token-42';
const dir = tempDir('guard');
exportAllSizes(tinySource(tinyModel()), dir);
const model = loadModelFolder(dir);
const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');

async function withServer(options: Partial<ServerOptions>, fn: (base: string) => Promise<void>): Promise<void> {
  const server = new RecommendServer(model, { ...DEFAULT_SERVER_OPTIONS, port: 0, ...options });
  const { port } = await server.listen();
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    await server.close();
  }
}

test('guard: the bearer token accepts exactly itself, in an Authorization: Bearer header', () => {
  const token = new BearerToken(TOKEN);
  assert.equal(token.accepts(`Bearer ${TOKEN}`), true);
  assert.equal(token.accepts(`bearer ${TOKEN}`), true);
  for (const header of [undefined, '', 'Bearer', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN, `Bearer x ${TOKEN}`]) {
    assert.equal(token.accepts(header), false, String(header));
  }
  for (const bad of ['', 'two words', 'tab\there', 'é']) assert.throws(() => new BearerToken(bad), UserError, JSON.stringify(bad));
});

test('guard: writes are every method but GET/HEAD/OPTIONS, except POST /v1/recommend', () => {
  assert.equal(isWriteRequest('POST', '/v1/recommend'), false);
  for (const [method, p] of [
    ['GET', '/v1/items/3'],
    ['HEAD', '/healthz'],
    ['OPTIONS', '/v1/events'],
  ])
    assert.equal(isWriteRequest(method, p), false);
  for (const [method, p] of [
    ['POST', '/v1/events'],
    ['POST', '/v1/items'],
    ['DELETE', '/v1/recommend'],
    ['PUT', '/v1/items/3'],
  ])
    assert.equal(isWriteRequest(method, p), true);
});

test('guard: CORS origins parse, allow and refuse', () => {
  const list = CorsPolicy.parse('https://shop.example, http://localhost:3000');
  assert.deepEqual(list.responseHeaders('https://shop.example'), { Vary: 'Origin', 'Access-Control-Allow-Origin': 'https://shop.example' });
  assert.deepEqual(list.responseHeaders('https://evil.example'), { Vary: 'Origin' });
  assert.deepEqual(list.responseHeaders(undefined), { Vary: 'Origin' });
  assert.deepEqual(CorsPolicy.parse('*').responseHeaders('https://any.example'), { 'Access-Control-Allow-Origin': '*' });
  for (const bad of ['', 'shop.example', 'https://shop.example/', 'https://shop.example/path', 'https://a.example,']) {
    assert.throws(
      () => CorsPolicy.parse(bad),
      (err: Error) => err instanceof UserError && err.code === 'bad-cors-origin' && /is not a CORS origin: write scheme/.test(err.message),
      bad,
    );
  }
});

test('guard: the access log line is one JSON object of fixed fields', () => {
  const line = accessLogLine({ ts: '2026-01-02T03:04:05.678Z', method: 'GET', route: '/v1/items/:id', status: 200, bytes: 57, ms: 1.23456 });
  assert.equal(line, '{"ts":"2026-01-02T03:04:05.678Z","method":"GET","route":"/v1/items/:id","status":200,"bytes":57,"ms":1.235}\n');
});

test('guard: through the server, writes need the token (401 with WWW-Authenticate), reads stay open', async () => {
  await withServer({ token: new BearerToken(TOKEN) }, async (base) => {
    const write = (authorization?: string) =>
      fetch(`${base}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: '{"events": []}',
      });
    const none = await write();
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="fmrlrec"');
    assert.deepEqual(await none.json(), { error: 'this request changes data: send "Authorization: Bearer <token>"', field: null });
    const wrong = await write('Bearer nope');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="fmrlrec", error="invalid_token"');
    // The right token passes the guard and reaches the routes (this server has no store, so no events route: 404;
    // test/openapi.test.ts sends events with and without the token to a server with one).
    assert.equal((await write(`Bearer ${TOKEN}`)).status, 404);
    const read = await fetch(`${base}/v1/recommend`, { method: 'POST', body: JSON.stringify({ history: [1, 2], k: 2 }) });
    assert.equal(read.status, 200);
    assert.equal((await fetch(`${base}/v1/items/3`)).status, 200);
  });
  await withServer({}, async (base) => {
    assert.equal((await fetch(`${base}/v1/events`, { method: 'POST', body: '{}' })).status, 404, 'no token set: writes are not refused by the guard');
  });
});

test('guard: through the server, CORS answers preflights and marks answers for allowed origins only', async () => {
  const preflight = (base: string, origin: string) =>
    fetch(`${base}/v1/recommend`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
  await withServer({ cors: CorsPolicy.parse('https://shop.example') }, async (base) => {
    const ok = await preflight(base, 'https://shop.example');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.equal(ok.headers.get('access-control-allow-methods'), 'GET, HEAD, POST, OPTIONS');
    assert.equal(ok.headers.get('access-control-allow-headers'), 'Content-Type, Authorization');
    assert.equal(ok.headers.get('access-control-max-age'), '600');
    assert.equal(ok.headers.get('vary'), 'Origin');
    assert.equal(await ok.text(), '');
    const refused = await preflight(base, 'https://evil.example');
    assert.equal(refused.status, 204);
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    assert.equal(refused.headers.get('access-control-allow-methods'), null);
    const get = await fetch(`${base}/healthz`, { headers: { origin: 'https://shop.example' } });
    assert.equal(get.headers.get('access-control-allow-origin'), 'https://shop.example');
    const error = await fetch(`${base}/nothing`, { headers: { origin: 'https://shop.example' } });
    assert.equal(error.status, 404);
    assert.equal(error.headers.get('access-control-allow-origin'), 'https://shop.example', 'errors are readable by the page too');
    assert.equal((await fetch(`${base}/healthz`, { headers: { origin: 'https://evil.example' } })).headers.get('access-control-allow-origin'), null);
  });
  await withServer({ token: new BearerToken(TOKEN) }, async (base) => {
    const off = await preflight(base, 'https://shop.example');
    assert.equal(off.status, 405, 'no --cors: no preflight answers');
    assert.equal(off.headers.get('access-control-allow-origin'), null);
  });
});

test('guard: through the server, one access log line per request, with the route label and not the raw path', async () => {
  const lines: string[] = [];
  let itemBytes = 0;
  await withServer({ accessLog: (line) => lines.push(line) }, async (base) => {
    const item = await fetch(`${base}/v1/items/3`);
    itemBytes = Number(item.headers.get('content-length'));
    await item.text();
    await (await fetch(`${base}/v1/recommend`, { method: 'POST', body: '{"k": 1}' })).text();
    await (await fetch(`${base}/no/such/path`)).text();
  });
  assert.equal(lines.length, 3);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  const entries = lines.map((l) => JSON.parse(l));
  for (const e of entries) {
    assert.deepEqual(Object.keys(e), ['ts', 'method', 'route', 'status', 'bytes', 'ms']);
    assert.ok(Date.parse(e.ts) > 0 && e.ms >= 0);
  }
  assert.deepEqual(
    entries.map((e) => [e.method, e.route, e.status]),
    [
      ['GET', '/v1/items/:id', 200],
      ['POST', '/v1/recommend', 400],
      ['GET', 'other', 404],
    ],
  );
  assert.ok(itemBytes > 0);
  assert.equal(entries[0].bytes, itemBytes);
});

/** Run `fmrlrec serve` with these flags and env, make one request, stop it; its stdout and stderr. */
async function runCli(
  flags: string[],
  env: Record<string, string>,
  request: (base: string) => Promise<void>,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', dir, '--port', '0', '--store', 'none', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FMRLREC_TOKEN: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const port = await new Promise<number | null>((resolve) => {
    child.stderr.on('data', (c) => {
      stderr += c;
      const m = /http:\/\/127\.0\.0\.1:([0-9]+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    exited.then(() => resolve(null));
  });
  if (port !== null) {
    await request(`http://127.0.0.1:${port}`);
    child.kill('SIGTERM');
  }
  const code = await exited;
  return { stdout, stderr, code };
}

test('guard: the CLI takes the token from FMRLREC_TOKEN, logs each request on stdout, and --quiet silences it', async () => {
  const logged = await runCli(['--cors', 'https://shop.example'], { FMRLREC_TOKEN: TOKEN }, async (base) => {
    assert.equal((await fetch(`${base}/v1/items`, { method: 'POST', body: '{}' })).status, 401);
    const res = await fetch(`${base}/healthz`, { headers: { origin: 'https://shop.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
  });
  assert.equal(logged.code, 0, logged.stderr);
  assert.match(logged.stderr, /writes need the bearer token; CORS for https:\/\/shop\.example; access log on stdout/);
  const entries = logged.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    entries.map((e) => [e.method, e.route, e.status]),
    [
      ['POST', '/v1/items', 401],
      ['GET', '/healthz', 200],
    ],
  );

  const quiet = await runCli(['--quiet', '--token', TOKEN], {}, async (base) => {
    assert.equal((await fetch(`${base}/v1/items`, { method: 'POST', body: '{}' })).status, 401);
  });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, '');
  assert.match(quiet.stderr, /access log off/);

  const bad = await runCli(['--token', 'has space'], {}, async () => assert.fail('must not start'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--token: the token must be non-empty printable ASCII/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
