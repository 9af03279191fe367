/**
 * One process per embedded store: a lock file holding the owner's pid. A lock
 * left by a process that no longer runs (killed) is taken over.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';

/** Name of the lock file inside the folder. */
export const LOCK_FILE = 'fmrlrec.lock';

/** Take the folder's lock; returns the function that releases it. Throws a UserError when a live process holds it. */
export function lockFolder(dir: string, what: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`${file}: cannot create the lock file (${(err as Error).message})`);
    }
    const owner = Number(fs.readFileSync(file, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
      throw new UserError(`${dir} is in use by process ${owner}: ${what} serves one process`, 'store-in-use');
    }
    fs.rmSync(file, { force: true }); // left by a process that is gone
  }
  throw new UserError(`${file}: another process is taking the lock at the same time`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
