/**
 * The parameter names of one fMRLRec block, as FmrlRec declares them
 * (src/model/fmrlrec.ts: prefixes blocks.{b}.ln1 / lru / ln2 / ffn), in one
 * place for the inference engine and the PyTorch interchange. Browser-safe.
 */
import { lruParamNames } from '../model/layers/lru';

/** The gated feed-forward's three MRL maps, by our name. */
export const FFN_MAPS = ['gate', 'w1', 'w2'] as const;
export type FfnMap = (typeof FFN_MAPS)[number];

/** Names of every parameter of block b. */
export function blockParamNames(b: number) {
  const p = `blocks.${b}`;
  const ffn = (map: FfnMap) => ({ weight: `${p}.ffn.${map}.weight`, bias: `${p}.ffn.${map}.bias` });
  return {
    ln1: { weight: `${p}.ln1.weight`, bias: `${p}.ln1.bias` },
    lru: lruParamNames(`${p}.lru`),
    ln2: { weight: `${p}.ln2.weight`, bias: `${p}.ln2.bias` },
    ffn: { gate: ffn('gate'), w1: ffn('w1'), w2: ffn('w2') },
  };
}

export type BlockParamNames = ReturnType<typeof blockParamNames>;
