/** `fmrlrec serve` as a child process, for the tests of the CLI service. */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.join(__dirname, '..', 'src', 'cli', 'main.js');

/** A started `fmrlrec serve`. */
export interface ServeProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port>, or null when it exited before listening. */
  base: string | null;
  /** What it wrote to stderr so far. */
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Run `fmrlrec serve <args> --port 0 --quiet` and wait until it listens (or exits). */
export async function startServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args, '--port', '0', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const base = await new Promise<string | null>((resolve) => {
    child.stderr!.on('data', (c) => {
      stderr += c;
      const m = /on (http:\/\/127\.0\.0\.1:[0-9]+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    exited.then(() => resolve(null));
  });
  return { child, base, stderr: () => stderr, exited };
}
