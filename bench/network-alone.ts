/**
 * The baseline of a count prior's serving cost: a copy of an every-size export
 * without its prior (the count files and config.json's countPrior removed),
 * which serves the network alone. The serving benchmarks (bench/serve.ts,
 * bench/live.ts) load a model with a prior and this copy one after the other.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONFIG_FILE, COUNT_PRIOR_FILE, ExportedConfig, ExportIndex, INDEX_FILE } from '../src/deploy/format';

/** A copy of the every-size export `dir` without its count prior, in a temporary folder removed when the process exits. */
export function networkAloneCopy(dir: string): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'fmrlrec-bench-network-alone-'));
  process.on('exit', () => fs.rmSync(copy, { recursive: true, force: true }));
  fs.cpSync(dir, copy, { recursive: true });
  const index = JSON.parse(fs.readFileSync(path.join(copy, INDEX_FILE), 'utf8')) as ExportIndex;
  for (const { folder } of index.sizes) {
    const configFile = path.join(copy, folder, CONFIG_FILE);
    const { countPrior: _removed, ...config } = JSON.parse(fs.readFileSync(configFile, 'utf8')) as ExportedConfig;
    fs.writeFileSync(configFile, JSON.stringify(config));
    fs.rmSync(path.join(copy, folder, COUNT_PRIOR_FILE), { force: true });
  }
  return copy;
}
