/**
 * `fmrlrec items add`: items added to an exported model folder without
 * retraining. Each new item's vector is built at the stored width W by
 * ./new-items.ts; every size folder gets its first m coordinates appended to
 * item_table.safetensors, the item appended to items.json with the next id,
 * config.json's item count and manifest.json's `addedItems` and bytes updated.
 * The weights (model.safetensors) are not changed: new items have no item-ID
 * vector.
 *
 * The folder changes as a whole: the new folder is written beside it (files
 * that do not change are hard links, or copies where the file system has no
 * links), then swapped in with two renames, so a failure before the swap
 * leaves the folder as it was, and a reader never sees half of a change.
 * Adding an item whose ASIN the folder already has is an error (nothing is
 * written), so running the same command twice does not add anything twice.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import { decodeFloat32Safetensors } from '../util/safetensors';
import { writeSafetensors } from '../util/safetensors-file';
import { folderBytes } from './export';
import {
  CONFIG_FILE,
  ExportedConfig,
  ExportIndex,
  INDEX_FILE,
  ITEM_TABLE_FILE,
  ITEM_TABLE_TENSOR,
  ItemEntry,
  ITEMS_FILE,
  MANIFEST_FILE,
  MODEL_INDEX_FORMAT,
  SizeManifest,
} from './format';
import { checkDistinctAsins, ItemToAdd, loadItemVectorBuilder, RecipeEncoderOptions } from './new-items';

/** What {@link addItemsToModelFolder} did. */
export interface AddedToFolder {
  /** The new items.json entries (ids N+1, N+2, ...). */
  added: ItemEntry[];
  /** Per item: attribute values the model does not know (they add nothing to its vector). */
  unknownAttributes: number[];
  /** The sizes whose folders were written. */
  sizes: number[];
}

/** A size folder of an export, read. */
interface SizeFolder {
  /** Path relative to the export's folder ("" for a one-size export). */
  rel: string;
  manifest: SizeManifest;
  config: ExportedConfig;
  items: ItemEntry[];
}

function readJson<T>(file: string): T {
  if (!fs.existsSync(file)) throw new UserError(`${file}: file not found (is the export complete?)`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** The size folders of an export (one, or every size of index.json), smallest first. */
function sizeFolders(dir: string): { index: ExportIndex | null; folders: SizeFolder[] } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: no such folder`);
  const read = (rel: string): SizeFolder => {
    const at = path.join(dir, rel);
    return {
      rel,
      manifest: readJson(path.join(at, MANIFEST_FILE)),
      config: readJson(path.join(at, CONFIG_FILE)),
      items: readJson(path.join(at, ITEMS_FILE)),
    };
  };
  const indexFile = path.join(dir, INDEX_FILE);
  if (fs.existsSync(indexFile)) {
    const index = readJson<ExportIndex>(indexFile);
    if (index.format !== MODEL_INDEX_FORMAT || !Array.isArray(index.sizes) || index.sizes.length === 0)
      throw new UserError(`${indexFile}: not an fmrlrec model index`);
    return { index, folders: index.sizes.map((s) => read(s.folder)) };
  }
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    throw new UserError(`${dir} is not an exported model (no ${MANIFEST_FILE} or ${INDEX_FILE}; make one with "fmrlrec export")`);
  }
  const parentIndex = path.join(path.dirname(path.resolve(dir)), INDEX_FILE);
  if (fs.existsSync(parentIndex) && readJson<ExportIndex>(parentIndex).sizes?.some((s) => s.folder === path.basename(path.resolve(dir)))) {
    throw new UserError(`${dir} is one size of the export in ${path.dirname(dir)}: add the items there, so that every size has them`);
  }
  return { index: null, folders: [read('')] };
}

/**
 * Add items to an exported model folder (one size, or every size), all or nothing.
 * @param options how to load the model's text encoder
 * @throws UserError for a folder that is not an export (or cannot take new
 *   items), no items, an ASIN given twice or already in the model
 */
export async function addItemsToModelFolder(dir: string, items: readonly ItemToAdd[], options: RecipeEncoderOptions = {}): Promise<AddedToFolder> {
  if (items.length === 0) throw new UserError('no items to add');
  const { index, folders } = sizeFolders(dir);
  const largest = folders[folders.length - 1];
  const n = largest.config.model.numItems;
  for (const f of folders) {
    if (f.config.model.numItems !== n || !Array.isArray(f.items) || f.items.length !== n) {
      throw new UserError(
        `${path.join(dir, f.rel)}: its items (${f.config.model.numItems} in ${CONFIG_FILE}, ${f.items.length} in ${ITEMS_FILE}) disagree with the largest size's (${n})`,
      );
    }
  }
  checkDistinctAsins(items, (i) => `items[${i}]`);
  const known = new Map(largest.items.map((e) => [e.asin, e.id]));
  for (const item of items) {
    const id = known.get(item.asin);
    if (id !== undefined) throw new UserError(`item ${item.asin} is already in the model (id ${id}); nothing was added`);
  }

  const builder = await loadItemVectorBuilder(path.join(dir, largest.rel), options);
  const w = largest.manifest.size;
  if (builder.width !== w) throw new UserError(`${path.join(dir, largest.rel)}: the weights are ${builder.width} wide, the manifest says size ${w}`);
  const { vectors, unknownAttributes } = await builder.vectors(items.map((i) => i.info));
  const added: ItemEntry[] = items.map((item, i) => ({ id: n + 1 + i, asin: item.asin, title: item.info.title ?? '' }));

  const staged = `${path.resolve(dir)}.adding-items-${process.pid}`;
  fs.rmSync(staged, { recursive: true, force: true });
  try {
    linkTree(path.resolve(dir), staged);
    for (const f of folders) writeSizeFolder(path.join(staged, f.rel), f, vectors, w, added);
    if (index) {
      for (const s of index.sizes) s.bytes = readJson<SizeManifest>(path.join(staged, s.folder, MANIFEST_FILE)).bytes.total;
      writeJsonAtomic(path.join(staged, INDEX_FILE), index);
    }
  } catch (err) {
    fs.rmSync(staged, { recursive: true, force: true });
    throw err;
  }
  swapIn(path.resolve(dir), staged);
  return { added, unknownAttributes, sizes: folders.map((f) => f.manifest.size) };
}

/** Append the new items to one size folder (m = its size): the first m coordinates of each W-wide vector. */
function writeSizeFolder(at: string, folder: SizeFolder, vectors: Float32Array, w: number, added: readonly ItemEntry[]): void {
  const m = folder.manifest.size;
  const tableFile = path.join(at, ITEM_TABLE_FILE);
  const old = decodeFloat32Safetensors(fs.readFileSync(tableFile), tableFile)[ITEM_TABLE_TENSOR];
  const rows = folder.config.model.numItems + 1;
  if (!old || old.shape[0] !== rows || old.shape[1] !== m) throw new UserError(`${tableFile}: expected a ${rows}×${m} tensor "${ITEM_TABLE_TENSOR}"`);
  const table = new Float32Array((rows + added.length) * m);
  table.set(old.data);
  added.forEach((_, i) => table.set(vectors.subarray(i * w, i * w + m), (rows + i) * m));
  writeSafetensors(tableFile, { [ITEM_TABLE_TENSOR]: { data: table, shape: [rows + added.length, m] } });
  writeJsonAtomic(path.join(at, ITEMS_FILE), [...folder.items, ...added]);
  const config: ExportedConfig = { ...folder.config, model: { ...folder.config.model, numItems: folder.config.model.numItems + added.length } };
  writeJsonAtomic(path.join(at, CONFIG_FILE), config);
  const manifest: SizeManifest = { ...folder.manifest, addedItems: (folder.manifest.addedItems ?? 0) + added.length, bytes: folderBytes(at) };
  writeJsonAtomic(path.join(at, MANIFEST_FILE), manifest);
}

/** Recreate the tree `from` at `to` with hard links to its files (copies where links fail). */
function linkTree(from: string, to: string): void {
  fs.mkdirSync(to);
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) {
      linkTree(src, dst);
    } else if (entry.isFile()) {
      try {
        fs.linkSync(src, dst);
      } catch {
        fs.copyFileSync(src, dst);
      }
    }
  }
}

/** Replace `dir` by `staged`: two renames, then the old folder is removed. */
function swapIn(dir: string, staged: string): void {
  const old = `${dir}.replaced-${process.pid}`;
  fs.rmSync(old, { recursive: true, force: true });
  fs.renameSync(dir, old);
  try {
    fs.renameSync(staged, dir);
  } catch (err) {
    fs.renameSync(old, dir);
    throw err;
  }
  fs.rmSync(old, { recursive: true, force: true });
}
