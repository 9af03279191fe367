/**
 * Tests that need something outside the repository — the real datasets in
 * ../shared/data, Debian's chromium — skip with a visible reason where it is
 * missing on a developer's machine, and fail where it is missing in CI
 * (CI=true), so that a CI run never passes by skipping them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The real datasets: $FMRLREC_DATA_DIR, else the first `shared/data` folder
 * beside the repository or beside one of the folders above it (a clone made
 * one level deeper, as CI makes it, still finds the data), else
 * ../shared/data (absent: tests name it in their skip reason).
 */
export const REAL_DATA_DIR = process.env.FMRLREC_DATA_DIR ?? findSharedData(path.resolve(__dirname, '..', '..'));

function findSharedData(repository: string): string {
  for (let dir = path.dirname(repository); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'data');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.join(path.dirname(repository), 'shared', 'data');
  }
}

/** True when this is a CI run (CI=true, as CI services set it). */
export function isCi(): boolean {
  return process.env.CI === 'true';
}

/**
 * The `skip` option of a test that needs `file`: false when it exists; when it
 * is missing, `reason` (node:test prints it next to the skipped test), except
 * in CI, where the test runs and `requirePresent` fails it.
 */
export function skipUnlessPresent(file: string, reason: string): string | false {
  if (fs.existsSync(file) || isCi()) return false;
  return `${reason} (in CI this is a failure)`;
}

/** First line of a test that needs `file`: throws a one-line error naming it when it is missing. */
export function requirePresent(file: string, what: string): void {
  if (!fs.existsSync(file)) throw new Error(`${what} is missing: ${file} does not exist${isCi() ? ' (CI=true: required, not skipped)' : ''}`);
}

/** The `skip` option of a test that reads real dataset `name` (its sequential_data.txt). */
export function skipUnlessDataset(name: string): string | false {
  return skipUnlessPresent(datasetFile(name), `no ${name} data at ${path.join(REAL_DATA_DIR, name)} (set FMRLREC_DATA_DIR)`);
}

/** First line of a test that reads real dataset `name`: fails clearly when its folder is missing. */
export function requireDataset(name: string): void {
  requirePresent(datasetFile(name), `the real dataset ${name}`);
}

function datasetFile(name: string): string {
  return path.join(REAL_DATA_DIR, name, 'sequential_data.txt');
}
