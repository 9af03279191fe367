/**
 * Item features of a run imported from the authors' PyTorch weights: the
 * reference's frozen tables travel in the run folder as
 * `reference_features.safetensors` ("token_lang" (N+1)×F_text and "token_img"
 * (N+1)×F_image, which may be 0 wide); the model's feature vector is their
 * concatenation (docs/method.md §3). The run's recipe names its text features "reference".
 */
import * as path from 'node:path';
import { UserError } from '../util/errors';
import { readSafetensors } from '../util/safetensors-file';

/** The file of an imported run's feature tables. */
export const REFERENCE_FEATURES_FILE = 'reference_features.safetensors';
/** Tensor name of the text features, (N+1)×F_text. */
export const TOKEN_LANG = 'token_lang';
/** Tensor name of the image features, (N+1)×F_image. */
export const TOKEN_IMG = 'token_img';
/** Text encoder name recorded in an imported run's run.json. */
export const REFERENCE_FEATURES_NAME = 'reference';

/** Frozen features split as the reference holds them (text part, image part). */
export interface FeatureParts {
  lang: Float32Array;
  langDim: number;
  img: Float32Array;
  imgDim: number;
}

/** Concatenate the columns of (rows×a) and (rows×b). */
export function concatColumns(left: Float32Array, a: number, right: Float32Array, b: number, rows: number): Float32Array {
  const out = new Float32Array(rows * (a + b));
  for (let r = 0; r < rows; r++) {
    out.set(left.subarray(r * a, r * a + a), r * (a + b));
    out.set(right.subarray(r * b, r * b + b), r * (a + b) + a);
  }
  return out;
}

/** Read an imported run's feature tables; rows must be N+1. */
export function readReferenceFeatures(runDir: string, rows: number): FeatureParts {
  const file = path.join(runDir, REFERENCE_FEATURES_FILE);
  const { tensors } = readSafetensors(file);
  const lang = tensors[TOKEN_LANG];
  const img = tensors[TOKEN_IMG];
  if (!lang || !img || lang.shape[0] !== rows || img.shape[0] !== rows) {
    throw new UserError(`${file}: expected ${TOKEN_LANG} and ${TOKEN_IMG} with ${rows} rows each`);
  }
  return { lang: lang.data as Float32Array, langDim: lang.shape[1], img: img.data as Float32Array, imgDim: img.shape[1] };
}
