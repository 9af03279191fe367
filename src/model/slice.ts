/**
 * Slicing a trained model to a smaller size of its ladder (docs/method.md §6): the size-m
 * model keeps projection rows [0:m], item-ID and attribute columns [0:m], the top-left m×m
 * block of every MRL matrix (chunks 1..j), LayerNorm chunks 1..j and LRU
 * parameters [0:m]. Its scores equal the full model's size-m scores.
 */
import type { Kernels } from '../kernels/types';
import { modelWidth } from './config';
import { FmrlRec } from './fmrlrec';
import { ATTRIBUTE_EMBEDDING, ITEM_ID_EMBEDDING, PROJECTION_WEIGHT } from './layers/item-table';
import { mrlLinearWeightCount } from './layers/mrl-linear';

/** A new model of width m (m must be in the ladder) with sliced copies of the weights. */
export function sliceModel(model: FmrlRec, m: number, kern: Kernels = model.kern): FmrlRec {
  const { config } = model;
  const j = config.dims.indexOf(m);
  if (j < 0) throw new RangeError(`size ${m} is not in the model's ladder [${config.dims.join(', ')}]`);
  const d = modelWidth(config);
  const small = new FmrlRec({ ...config, dims: config.dims.slice(0, j + 1) }, model.features, kern, model.attributes);
  for (const spec of small.params.specs) {
    const src = model.params.value(spec.name);
    const dst = small.params.value(spec.name);
    if (spec.name === PROJECTION_WEIGHT) {
      dst.set(src.subarray(0, m * config.featureDim)); // rows 0:m of D×F
    } else if (spec.name === ITEM_ID_EMBEDDING) {
      copyBlock(src, d, dst, m, model.numRows, m); // columns 0:m of (N+1)×D
    } else if (spec.name === ATTRIBUTE_EMBEDDING) {
      copyBlock(src, d, dst, m, spec.shape[0], m); // columns 0:m of V×D
    } else if (spec.shape.length === 2) {
      copyBlock(src, d, dst, m, m, m); // top-left m×m of an MRL matrix
    } else {
      dst.set(src.subarray(0, m));
    }
  }
  return small;
}

/** dst (rows×cols, stride dstStride) = src[0:rows, 0:cols] (stride srcStride). */
function copyBlock(src: Float32Array, srcStride: number, dst: Float32Array, dstStride: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * srcStride, r * srcStride + cols), r * dstStride);
}

/** Parameters that exist in a model (MRL matrices count their block lower triangle only). */
export function parameterCount(model: FmrlRec): number {
  let n = 0;
  const mrl = mrlLinearWeightCount(model.bounds);
  for (const spec of model.params.specs) {
    const table = spec.name === PROJECTION_WEIGHT || spec.name === ITEM_ID_EMBEDDING || spec.name === ATTRIBUTE_EMBEDDING;
    const square = spec.shape.length === 2 && spec.shape[0] === model.width && spec.shape[1] === model.width && !table;
    n += square ? mrl : spec.size;
  }
  return n;
}
