/**
 * Any Hugging Face text or image encoder, run by transformers.js
 * (`@huggingface/transformers`, ONNX on onnxruntime-node, CPU; an optional
 * package, imported by `load()` only: without it, `load()` says what to install).
 *
 * A model is named by a hub id (`BAAI/bge-small-en-v1.5`) or a local folder.
 * Offline by default: a hub id is looked for in `<modelsDir>/<hub id>/`
 * (modelsDir: an option, else `~/.cache/fmrlrec/models`); downloads happen
 * only when allowed (`allowDownload`; the CLI reads both from the environment:
 * FMRLREC_MODELS_DIR, FMRLREC_HF_DOWNLOAD=1), and
 * then land in that same folder, so the next run works offline. When the files
 * are missing, the error names every file and where to put it.
 *
 * Text: tokens → last_hidden_state → CLS or mean pooling (from the model's
 * sentence-transformers `1_Pooling/config.json` when present; bge models use
 * CLS) → L2-normalised. Image: pixel_values → image_embeds (CLIP) or
 * pooler_output (SigLIP) or the CLS row of last_hidden_state → L2-normalised.
 * Both are batched; padding is masked, so a row does not depend on its batch.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { importOptional, type OptionalPackages } from '../util/optional-package';
import { normalizeRows, type TextEncoder, type TextEncoderSource } from './text-encoder';

/** Prefix of Hugging Face encoder names in the text encoder registry (`hf:<id or folder>`). */
export const HF_PREFIX = 'hf:';

/** How token vectors become one text vector: the first (CLS) token's, or the mean over the unpadded tokens. */
export type Pooling = 'cls' | 'mean';

/** Options of the Hugging Face encoders. */
export interface HuggingFaceOptions {
  /** Allow fetching from the hub (default false; the CLI sets it from FMRLREC_HF_DOWNLOAD=1). */
  allowDownload?: boolean;
  /** Where hub ids are looked for / downloaded to (default ~/.cache/fmrlrec/models; the CLI's FMRLREC_MODELS_DIR sets it). */
  modelsDir?: string;
  /** Texts or images per model call (default 16 for text, 8 for images). */
  batchSize?: number;
  /** Text pooling (default: from the model folder, else CLS for bge models, else mean). */
  pooling?: Pooling;
  /** ONNX weights variant: fp32 (onnx/model.onnx, default) or q8 (onnx/model_quantized.onnx) ... */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
}

/** A loaded image encoder: decoded images in, one L2-normalised row per image out. */
export interface ImageEncoder {
  readonly id: string;
  readonly dim: number;
  /**
   * Encode images given as file bytes (JPEG, PNG, WebP, ...). An image that
   * cannot be decoded gets a zero row and its index in `failed`.
   */
  encode(images: Uint8Array[]): Promise<{ rows: Float32Array; failed: Map<number, string> }>;
}

/** An image encoder known by id, not loaded yet. */
export interface ImageEncoderSource {
  readonly id: string;
  load(): Promise<ImageEncoder>;
}

const TEXT_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
const IMAGE_FILES = ['config.json', 'preprocessor_config.json'];

/** Default folder of local models, ~/.cache/fmrlrec/models (the CLI's FMRLREC_MODELS_DIR moves it: src/cli/environment.ts). */
export function defaultModelsDir(): string {
  return path.join(os.homedir(), '.cache', 'fmrlrec', 'models');
}

interface Location {
  /** What the user gave. */
  spec: string;
  /** The folder the files are (or would be) in. */
  folder: string;
  /** Hub id, when the spec is not an existing folder. */
  hubId: string | null;
  /** What to pass to transformers.js. */
  modelArg: string;
}

function locate(spec: string, modelsDir: string): Location {
  if (spec === '') throw new UserError('empty model name (give a Hugging Face hub id or a local folder)');
  const asFolder = path.resolve(spec);
  const looksLikePath = spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('~') || fs.existsSync(asFolder);
  if (looksLikePath) {
    if (!fs.existsSync(asFolder) || !fs.statSync(asFolder).isDirectory()) throw new UserError(`model folder ${asFolder} does not exist`);
    return { spec, folder: asFolder, hubId: null, modelArg: asFolder };
  }
  if (!/^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(spec)) throw new UserError(`"${spec}" is neither a model folder nor a Hugging Face hub id`);
  return { spec, folder: path.join(path.resolve(modelsDir), spec), hubId: spec, modelArg: spec };
}

/** A file-name-safe id that changes with the model's files and the choices that change its vectors. */
function encoderId(kind: 'text' | 'image', loc: Location, extra: string, dtype: string): string {
  const name = (loc.hubId ?? path.basename(loc.folder)).replace(/[^A-Za-z0-9._-]+/g, '_');
  const hash = createHash('sha256').update(`${kind}\n${loc.hubId ?? ''}\n${dtype}\n`);
  // A hub id names its files; a local folder is identified by what is in it.
  for (const file of loc.hubId ? [] : ['config.json', 'tokenizer.json', 'preprocessor_config.json']) {
    const p = path.join(loc.folder, file);
    if (fs.existsSync(p)) hash.update(`${file}\n`).update(fs.readFileSync(p));
  }
  const onnxDir = path.join(loc.folder, 'onnx');
  if (!loc.hubId && fs.existsSync(onnxDir)) {
    for (const f of fs.readdirSync(onnxDir).sort()) hash.update(`${f}:${fs.statSync(path.join(onnxDir, f)).size}\n`);
  }
  return `hf-${name}${extra ? `-${extra}` : ''}${dtype === 'fp32' ? '' : `-${dtype}`}-${hash.digest('hex').slice(0, 8)}`;
}

function onnxFile(kind: 'text' | 'image', dtype: string): string {
  const base = kind === 'text' ? 'model' : 'vision_model';
  const suffix: Record<string, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4' };
  return `onnx/${base}${suffix[dtype] ?? ''}.onnx`;
}

/** The one message for a model whose files are not here. */
export function missingModelMessage(kind: 'text' | 'image', loc: Location, dtype: string, missing: string[]): string {
  const files = [...(kind === 'text' ? TEXT_FILES : IMAGE_FILES), onnxFile(kind, dtype)];
  const from = loc.hubId ? ` (from https://huggingface.co/${loc.hubId}/tree/main)` : '';
  return (
    `${kind} model "${loc.spec}" is not available offline: ${missing.length > 0 ? `missing ${missing.join(', ')}; ` : ''}` +
    `put ${files.join(', ')}${from} in ${loc.folder}${path.sep}` +
    (loc.hubId ? ', or give a local folder, or allow downloading' : '')
  );
}

function missingFiles(kind: 'text' | 'image', loc: Location, dtype: string): string[] {
  const files = [...(kind === 'text' ? TEXT_FILES : IMAGE_FILES), onnxFile(kind, dtype)];
  return files.filter((f) => !fs.existsSync(path.join(loc.folder, f)));
}

function resolveOptions(options: HuggingFaceOptions): Required<Omit<HuggingFaceOptions, 'pooling' | 'batchSize'>> & HuggingFaceOptions {
  return {
    ...options,
    allowDownload: options.allowDownload ?? false,
    modelsDir: options.modelsDir ?? defaultModelsDir(),
    dtype: options.dtype ?? 'fp32',
  };
}

type Transformers = typeof import('@huggingface/transformers');

/** transformers.js: an optional package (~500 MB with onnxruntime-node), installed only by those who use it. */
const TRANSFORMERS: OptionalPackages = { packages: ['@huggingface/transformers'], feature: 'encoding with a Hugging Face model' };

/**
 * Import transformers.js (heavy: only from load()) and apply the offline settings.
 * @throws MissingPackageError (one line: what to install) when it is not installed
 */
async function transformers(allowDownload: boolean, modelsDir: string): Promise<Transformers> {
  const t = await importOptional(TRANSFORMERS, () => import('@huggingface/transformers'));
  t.env.allowLocalModels = true;
  t.env.localModelPath = path.resolve(modelsDir) + path.sep;
  t.env.allowRemoteModels = allowDownload;
  t.env.useFSCache = allowDownload;
  t.env.cacheDir = path.resolve(modelsDir) + path.sep;
  return t;
}

/** Load a model's files; turn "file not found" into the one clear message. */
async function loadChecked<T>(kind: 'text' | 'image', loc: Location, dtype: string, allowDownload: boolean, load: () => Promise<T>): Promise<T> {
  const missing = missingFiles(kind, loc, dtype);
  if (missing.length > 0 && !(allowDownload && loc.hubId))
    throw new UserError(missingModelMessage(kind, loc, dtype, missing), loc.hubId ? 'download-not-allowed' : undefined);
  try {
    return await load();
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/locate file|not found|ENOENT|fetch failed|Unauthorized|404/i.test(message)) {
      throw new UserError(`${missingModelMessage(kind, loc, dtype, missingFiles(kind, loc, dtype))} (${message.split('\n')[0]})`);
    }
    throw new UserError(`cannot load ${kind} model "${loc.spec}" from ${loc.folder}: ${message.split('\n')[0]}`);
  }
}

/** Pooling named by a sentence-transformers model folder, if any. */
function folderPooling(folder: string): Pooling | undefined {
  const file = path.join(folder, '1_Pooling', 'config.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (config.pooling_mode_cls_token === true) return 'cls';
    if (config.pooling_mode_mean_tokens === true) return 'mean';
  } catch {
    // fall through to the default
  }
  return undefined;
}

/**
 * A Hugging Face text encoder (registry name `hf:<hub id or folder>`).
 * @throws UserError for a spec that is neither a folder nor a hub id
 */
export function huggingFaceTextSource(spec: string, options: HuggingFaceOptions = {}): TextEncoderSource {
  const o = resolveOptions(options);
  const loc = locate(spec, o.modelsDir);
  const pooling: Pooling = o.pooling ?? folderPooling(loc.folder) ?? (/bge/i.test(spec) ? 'cls' : 'mean');
  const batchSize = o.batchSize ?? 16;
  return {
    id: encoderId('text', loc, pooling, o.dtype),
    load: async () => {
      const t = await transformers(o.allowDownload, o.modelsDir);
      const extractor = await loadChecked('text', loc, o.dtype, o.allowDownload, () =>
        t.pipeline('feature-extraction', loc.modelArg, { dtype: o.dtype, device: 'cpu' }),
      );
      const probe = await extractor(['probe'], { pooling, normalize: true });
      const dim = probe.dims[probe.dims.length - 1];
      const encoder: TextEncoder = {
        id: encoderId('text', loc, pooling, o.dtype),
        dim,
        encode: async (texts, onProgress) => {
          const out = new Float32Array(texts.length * dim);
          // Similar lengths together: less padding per batch, same rows.
          const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length);
          for (let start = 0; start < order.length; start += batchSize) {
            const idx = order.slice(start, start + batchSize);
            const result = await extractor(
              idx.map((i) => texts[i]),
              { pooling, normalize: true },
            );
            const data = result.data as Float32Array;
            idx.forEach((i, k) => out.set(data.subarray(k * dim, (k + 1) * dim), i * dim));
            onProgress?.(Math.min(start + batchSize, texts.length));
          }
          return normalizeRows(out, dim);
        },
      };
      return encoder;
    },
  };
}

/**
 * A Hugging Face image encoder (CLIP, SigLIP, ...; hub id or folder).
 * @throws UserError for a spec that is neither a folder nor a hub id
 */
export function huggingFaceImageSource(spec: string, options: HuggingFaceOptions = {}): ImageEncoderSource {
  const o = resolveOptions(options);
  const loc = locate(spec, o.modelsDir);
  const batchSize = o.batchSize ?? 8;
  return {
    id: encoderId('image', loc, '', o.dtype),
    load: async () => {
      const t = await transformers(o.allowDownload, o.modelsDir);
      const pipe = await loadChecked('image', loc, o.dtype, o.allowDownload, () =>
        t.pipeline('image-feature-extraction', loc.modelArg, { dtype: o.dtype, device: 'cpu' }),
      );
      type RawImage = InstanceType<Transformers['RawImage']>;
      const embed = async (images: RawImage[]): Promise<{ data: Float32Array; dim: number }> => {
        const { pixel_values } = await pipe.processor(images);
        const outputs = (await pipe.model({ pixel_values })) as Record<string, { dims: number[]; data: Float32Array }>;
        const picked = outputs.image_embeds ?? outputs.pooler_output ?? outputs.last_hidden_state;
        if (!picked) throw new Error(`image model "${spec}" returned none of image_embeds, pooler_output, last_hidden_state`);
        const dims = picked.dims;
        const dim = dims[dims.length - 1];
        if (dims.length === 2) return { data: picked.data, dim };
        // [B, T, D]: the first (CLS) position of each image.
        const out = new Float32Array(images.length * dim);
        for (let b = 0; b < images.length; b++) out.set(picked.data.subarray(b * dims[1] * dim, b * dims[1] * dim + dim), b * dim);
        return { data: out, dim };
      };
      const blank = new t.RawImage(new Uint8ClampedArray(32 * 32 * 3), 32, 32, 3);
      const dim = (await embed([blank])).dim;
      const encoder: ImageEncoder = {
        id: encoderId('image', loc, '', o.dtype),
        dim,
        encode: async (files) => {
          const rows = new Float32Array(files.length * dim);
          const failed = new Map<number, string>();
          const decoded: { index: number; image: RawImage }[] = [];
          for (let i = 0; i < files.length; i++) {
            try {
              const image = await t.RawImage.fromBlob(new Blob([files[i]]));
              if (image.width < 1 || image.height < 1) throw new Error('empty image');
              decoded.push({ index: i, image: image.rgb() });
            } catch (err) {
              failed.set(i, `cannot decode image: ${(err as Error).message.split('\n')[0]}`);
            }
          }
          for (let start = 0; start < decoded.length; start += batchSize) {
            const chunk = decoded.slice(start, start + batchSize);
            const { data } = await embed(chunk.map((d) => d.image));
            chunk.forEach((d, k) => rows.set(data.subarray(k * dim, (k + 1) * dim), d.index * dim));
          }
          return { rows: normalizeRows(rows, dim), failed };
        },
      };
      return encoder;
    },
  };
}
