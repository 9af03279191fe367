/**
 * HTTP downloads, to a file or into memory, through one retrying loop: a
 * timeout per attempt, and a failed attempt retried after a pause that doubles
 * each time. Node 20's fetch; nothing else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** How hard to try. */
export interface RetryOptions {
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Timeout of one attempt in ms. */
  timeoutMs?: number;
  /** Pause before the second attempt in ms; it doubles before each later one. */
  backoffMs?: number;
}

/** A response that was not 2xx. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(`HTTP ${status} from ${url}`);
    this.name = 'HttpStatusError';
  }

  /** Whether asking again cannot help (the resource is not there). */
  get permanent(): boolean {
    return this.status === 404 || this.status === 410;
  }
}

/**
 * Fetch `url` and hand the successful response to `read`. A network error, a
 * timeout, a non-2xx status or `read` throwing fails the attempt; failed
 * attempts are retried, except a 404 or 410.
 * @throws the last attempt's error when every attempt fails
 */
export async function fetchWithRetries<T>(url: string, read: (response: Response) => Promise<T>, options: Required<RetryOptions>): Promise<T> {
  let last: unknown;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs) });
      if (!response.ok) throw new HttpStatusError(response.status, url);
      return await read(response);
    } catch (err) {
      last = err;
      if (err instanceof HttpStatusError && err.permanent) break;
      if (attempt < options.attempts) await new Promise((r) => setTimeout(r, options.backoffMs * 2 ** (attempt - 1)));
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

/** Options of {@link downloadFile}. */
export interface DownloadFileOptions extends RetryOptions {
  /** Called with the bytes received so far and the total (null when unknown). */
  onProgress?: (received: number, total: number | null) => void;
}

/**
 * Download `url` to `file`, streaming through a temporary file that is renamed
 * when complete. Defaults: 3 attempts of at most 10 minutes (large files), 1 s
 * backoff.
 * @throws Error (the last failure) when every attempt fails
 */
export async function downloadFile(url: string, file: string, options: DownloadFileOptions = {}): Promise<void> {
  const tmp = `${file}.part-${process.pid}`;
  const write = async (response: Response): Promise<void> => {
    if (response.body === null) throw new Error(`empty response from ${url}`);
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : null;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const out = fs.createWriteStream(tmp);
    try {
      let received = 0;
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.length;
        if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
        options.onProgress?.(received, total);
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      if (total !== null && received !== total) throw new Error(`incomplete download of ${url} (${received} of ${total} bytes)`);
      fs.renameSync(tmp, file);
    } catch (err) {
      out.destroy();
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  };
  await fetchWithRetries(url, write, { attempts: options.attempts ?? 3, timeoutMs: options.timeoutMs ?? 600_000, backoffMs: options.backoffMs ?? 1000 });
}

/**
 * The bytes at `url`. Defaults: 3 attempts of at most 20 s, 0.5 s backoff.
 * @throws Error (the last failure) when every attempt fails
 */
export async function downloadBytes(url: string, options: RetryOptions = {}): Promise<Uint8Array> {
  return fetchWithRetries(url, async (response) => new Uint8Array(await response.arrayBuffer()), {
    attempts: options.attempts ?? 3,
    timeoutMs: options.timeoutMs ?? 20_000,
    backoffMs: options.backoffMs ?? 500,
  });
}
