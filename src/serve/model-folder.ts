/**
 * Load an exported model folder from disk (Node): one size (manifest.json), or
 * an every-size export (index.json), of which the largest size is loaded — it
 * serves every smaller size of the ladder exactly, as the prefix of its weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CONFIG_FILE,
  ExportIndex,
  INDEX_FILE,
  ITEM_TABLE_FILE,
  COUNT_PRIOR_FILE,
  ITEMS_FILE,
  MANIFEST_FILE,
  MODEL_INDEX_FORMAT,
  SizeManifest,
  WEIGHTS_FILE,
} from '../deploy/format';
import { UserError } from '../util/errors';
import { EngineKernels, TYPESCRIPT_ENGINE_KERNELS } from './engine';
import { engineFromFiles, LoadedEngine } from './model-files';

/** A model folder loaded for serving. */
export interface LoadedModel extends LoadedEngine {
  /** The folder given. */
  dir: string;
  /** Manifest of the size loaded. */
  manifest: SizeManifest;
  /** The index when `dir` is an every-size export, else null. */
  index: ExportIndex | null;
}

function readJson(file: string): unknown {
  if (!fs.existsSync(file)) throw new UserError(`${file}: file not found (is the export complete?)`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

function readBytes(file: string): Uint8Array {
  if (!fs.existsSync(file)) throw new UserError(`${file}: file not found (is the export complete?)`);
  return fs.readFileSync(file);
}

/** Load one exported size folder. */
function loadSizeFolder(dir: string, kernels: EngineKernels): LoadedEngine & { manifest: SizeManifest } {
  const manifest = readJson(path.join(dir, MANIFEST_FILE)) as SizeManifest;
  const loaded = engineFromFiles(
    {
      config: readJson(path.join(dir, CONFIG_FILE)),
      items: readJson(path.join(dir, ITEMS_FILE)),
      weights: readBytes(path.join(dir, WEIGHTS_FILE)),
      itemTable: readBytes(path.join(dir, ITEM_TABLE_FILE)),
      countPrior: fs.existsSync(path.join(dir, COUNT_PRIOR_FILE)) ? readBytes(path.join(dir, COUNT_PRIOR_FILE)) : null,
    },
    dir,
    kernels,
  );
  return { ...loaded, manifest };
}

/** Load `dir`: an exported size, or an every-size export (its largest size); `kernels` do the batch products and ranking. */
export function loadModelFolder(dir: string, kernels: EngineKernels = TYPESCRIPT_ENGINE_KERNELS): LoadedModel {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: no such folder`);
  const indexFile = path.join(dir, INDEX_FILE);
  if (fs.existsSync(indexFile)) {
    const index = readJson(indexFile) as ExportIndex;
    if (index.format !== MODEL_INDEX_FORMAT || !Array.isArray(index.sizes) || index.sizes.length === 0) {
      throw new UserError(`${indexFile}: not an fmrlrec model index`);
    }
    const largest = index.sizes[index.sizes.length - 1];
    return { ...loadSizeFolder(path.join(dir, largest.folder), kernels), dir, index };
  }
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new UserError(`${dir} is not an exported model (no ${MANIFEST_FILE} or ${INDEX_FILE}; make one with "fmrlrec export")`);
  }
  return { ...loadSizeFolder(dir, kernels), dir, index: null };
}
