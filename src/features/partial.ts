/**
 * What the text and image feature caches share: safe cache file names, the
 * matrix checksum, and the checkpoint of an encoding in progress, so that an
 * interrupted run continues where it stopped.
 *
 * While a matrix `<base>.npy` is being encoded, `<base>.partial.npy` holds the
 * rows done so far and `<base>.partial.json` a {@link PartialSidecar} saying
 * how many (items 1..done) and for which inputs; both are rewritten atomically
 * after every chunk (matrix first) and removed once the full matrix is written.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { UserError } from '../util/errors';
import { writeJsonAtomic } from '../util/files';
import { readNpy, writeNpy } from './npy';

/** The checkpoint's sidecar. `T` is what else a cache keeps per item (e.g. the missing-image report). */
export interface PartialSidecar<T = undefined> {
  encoder: string;
  dim: number;
  items: number;
  inputs_sha256: string;
  /** Items 1..done are encoded. */
  done: number;
  extra: T;
}

/** A checkpoint that matches the current inputs. */
export interface Resumed<T> {
  matrix: Float32Array;
  done: number;
  extra: T;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws a UserError when the dataset name or encoder id cannot be part of a cache file name. */
export function checkCacheNames(datasetName: string, encoderId: string): void {
  for (const [what, name] of [
    ['dataset name', datasetName],
    ['encoder id', encoderId],
  ]) {
    if (!SAFE_NAME.test(name)) throw new UserError(`${what} "${name}" cannot be used in a cache file name`);
  }
}

/** sha256 (hex) of a matrix's float32 bytes. */
export function matrixSha256(matrix: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(matrix.buffer, matrix.byteOffset, matrix.byteLength))
    .digest('hex');
}

/** The checkpoint files of the cache `<base>.npy`. */
export class EncodingCheckpoint<T = undefined> {
  readonly matrixFile: string;
  readonly sidecarFile: string;

  constructor(
    base: string,
    private readonly key: Omit<PartialSidecar, 'done' | 'extra'>,
  ) {
    this.matrixFile = `${base}.partial.npy`;
    this.sidecarFile = `${base}.partial.json`;
  }

  /** The rows done by an earlier run with the same encoder, width and inputs, or null. */
  resume(): Resumed<T> | null {
    if (!fs.existsSync(this.matrixFile) || !fs.existsSync(this.sidecarFile)) return null;
    try {
      const partial = JSON.parse(fs.readFileSync(this.sidecarFile, 'utf8')) as PartialSidecar<T>;
      const { encoder, dim, items, inputs_sha256: inputs } = this.key;
      if (partial.encoder !== encoder || partial.dim !== dim || partial.items !== items || partial.inputs_sha256 !== inputs) return null;
      if (!Number.isInteger(partial.done) || partial.done < 0 || partial.done > items) return null;
      const array = readNpy(this.matrixFile);
      if (array.shape.length !== 2 || array.shape[0] !== items + 1 || array.shape[1] !== dim) return null;
      return { matrix: array.data, done: partial.done, extra: partial.extra };
    } catch {
      return null; // unreadable: start over
    }
  }

  /** Record that items 1..done of `matrix` are encoded. */
  save(matrix: Float32Array, done: number, extra: T): void {
    writeNpy(this.matrixFile, matrix, [this.key.items + 1, this.key.dim]);
    const sidecar: PartialSidecar<T> = { ...this.key, done, extra };
    writeJsonAtomic(this.sidecarFile, sidecar);
  }

  /** Remove the checkpoint (the full matrix is written). */
  remove(): void {
    fs.rmSync(this.matrixFile, { force: true });
    fs.rmSync(this.sidecarFile, { force: true });
  }
}
