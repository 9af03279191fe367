/**
 * Child processes: one per measured configuration, so that peak RSS is per
 * configuration. The parent writes a spec file and runs
 * `node dist/bench/run.js worker <kind> <spec>`; the worker prints one result line.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Run `node dist/bench/run.js worker <kind> <spec>` and return the JSON it reports. */
export function runWorker<T>(kind: string, spec: unknown, nodeFlags: string[] = [], timeoutSeconds = 1800): T {
  const env = workerEnv ? { ...process.env, ...workerEnv } : process.env;
  const specFile = path.join(os.tmpdir(), `fmrlrec-bench-${process.pid}-${Date.now()}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  try {
    const res = spawnSync(process.execPath, ['--max-old-space-size=16384', ...nodeFlags, path.join(__dirname, 'run.js'), 'worker', kind, specFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      timeout: timeoutSeconds * 1000,
      maxBuffer: 64 << 20,
      env,
    });
    if (res.error) throw res.error;
    const line = res.stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
    if (res.status !== 0 || !line) throw new Error(`bench worker ${kind} failed (exit ${res.status ?? res.signal})`);
    return JSON.parse(line.slice(RESULT_MARK.length)) as T;
  } finally {
    fs.rmSync(specFile, { force: true });
  }
}

/** The prefix of a worker's (or the PyTorch mirror's) result line on stdout. */
export const RESULT_MARK = '@@RESULT ';

/**
 * Extra environment for the workers. `--keep-heap` sets glibc malloc tunables
 * that keep freed large blocks in the heap (no mmap per large allocation, no
 * trimming), which shows how much of a step is page faults on freshly
 * allocated Float32Arrays (expensive in this VM). Diagnostic only: the
 * figures of record run with the default allocator.
 */
let workerEnv: Record<string, string> | null = null;

/** Run the workers with glibc keeping freed large blocks (--keep-heap), or not. */
export function setKeepHeap(on: boolean): void {
  workerEnv = on ? { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456' } : null;
}

/** Worker side: print the result line the parent reads. */
export function reportResult(result: unknown): void {
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
}
