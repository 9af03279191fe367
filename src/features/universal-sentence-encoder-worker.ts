/**
 * Worker-thread entry point of the Universal Sentence Encoder: loads its own copy
 * of the model, then answers each {@link BatchRequest} with a {@link BatchResult}.
 * Started by universal-sentence-encoder.ts; not meant to be run directly.
 */
import { parentPort } from 'node:worker_threads';
import { embedBatch, loadUseModel, type BatchRequest, type BatchResult } from './universal-sentence-encoder';

const port = parentPort;
if (port === null) throw new Error('universal-sentence-encoder-worker must run in a worker thread');
const model = loadUseModel();

port.on('message', ({ batch, texts }: BatchRequest) => {
  model
    .then((m) => embedBatch(m, texts))
    .then(
      (embeddings) => port.postMessage({ batch, embeddings } satisfies BatchResult, [embeddings.buffer]),
      (err: unknown) => port.postMessage({ batch, error: err instanceof Error ? err.message : String(err) } satisfies BatchResult),
    );
});
