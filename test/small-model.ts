/**
 * The small model the training tests share: learned item-ID vectors (no
 * frozen features), optionally attribute vectors, one block, dropout 0.2,
 * initialised from `seed`.
 */
import { getKernels } from '../src/kernels';
import { FmrlRec } from '../src/model/fmrlrec';
import type { ItemAttributes } from '../src/model/layers/item-table';

/** An ID-only (plus `attributes`, when given) FmrlRec of sizes `dims` over items 1..numItems. */
export function smallIdModel(numItems: number, dims: number[], seed: number, attributes: ItemAttributes | null = null): FmrlRec {
  const model = new FmrlRec(
    {
      dims,
      numItems,
      featureDim: 0,
      itemIdEmbedding: true,
      ...(attributes ? { attributeDim: attributes.dim } : {}),
      numBlocks: 1,
      dropout: 0.2,
      layerNormEps: 1e-5,
      rMin: 0,
      rMax: 0.1,
    },
    null,
    getKernels(),
    attributes,
  );
  model.init(seed);
  return model;
}
