/**
 * Interchange with the authors' PyTorch code (docs/method.md §6): our parameters ↔ the
 * reference state_dict's names and shapes, complex tensors as float32 with a
 * trailing dimension of 2 (real, imaginary), as torch.view_as_real gives.
 *
 *   ours                              reference
 *   projection.{weight,bias}          embedding.projector.{weight,bias}
 *   (frozen features F = [lang; img]) embedding.token_lang.weight, embedding.token_img.weight
 *   blocks.b.ln1 / ln2, chunk k       model.lru_blocks.b.{input,post_lru}_layernorm.layernorm_k.{weight,bias}
 *   blocks.b.lru.{nu,theta,gamma}_log model.lru_blocks.b.lru_layer.params_log (3×D, rows ν, θ, γ)
 *   blocks.b.lru.in_re / in_im        model.lru_blocks.b.lru_layer.in_proj.mrl_linear_k.{weight,bias} (complex)
 *   blocks.b.lru.out_re / out_im      model.lru_blocks.b.lru_layer.out_proj.mrl_linear_k.{weight,bias} (complex)
 *   blocks.b.ffn.{gate,w1,w2}         model.lru_blocks.b.feed_forward.{gate,w_1,w_2}.mrl_linear_k.{weight,bias}
 *
 * MRL chunk k (rows C(k) = [m_{k-1}, m_k)) of one of our D×D block lower
 * triangular matrices is the reference's `mrl_linear_{k}.weight`, shape
 * [|C(k)|, m_k]; its bias rows C(k) are `mrl_linear_{k}.bias`.
 *
 * The reference's out_proj bias is complex, but the layer's output is
 * Re(C h + b) = Re(C h) + Re(b): the imaginary part of that bias has no effect
 * on anything the model computes, so we keep no parameter for it. Import drops
 * it (exactly: outputs are unchanged), export writes it as 0.
 *
 * Our optional learned item-ID embedding (`item_ids.weight`) has no reference
 * counterpart, so a model with one cannot be exported.
 */
import type { FmrlRec } from '../model/fmrlrec';
import { ATTRIBUTE_EMBEDDING, ITEM_ID_EMBEDDING, PROJECTION_BIAS, PROJECTION_WEIGHT } from '../model/layers/item-table';
import { UserError } from '../util/errors';
import type { Tensor } from '../util/safetensors';
import { blockParamNames } from '../model/block';
import { FFN_MAPS, FfnMap } from '../model/layers/ffn';

/** The reference's name for each of our feed-forward maps. */
const TORCH_FFN: Record<FfnMap, string> = { gate: 'gate', w1: 'w_1', w2: 'w_2' };

/** The reference's feature projection weight, [D, F]. */
export const TORCH_PROJECTION_WEIGHT = 'embedding.projector.weight';
/** The reference's feature projection bias, [D]. */
export const TORCH_PROJECTION_BIAS = 'embedding.projector.bias';
/** The reference's frozen text feature table, [N+1, F_text]. */
export const TORCH_TOKEN_LANG = 'embedding.token_lang.weight';
/** The reference's frozen image feature table, [N+1, F_image]. */
export const TORCH_TOKEN_IMG = 'embedding.token_img.weight';

import type { FeatureParts } from './reference-features';
export type { FeatureParts } from './reference-features';

/** Reference prefix of block b's parts. */
function torchBlock(b: number) {
  const p = `model.lru_blocks.${b}`;
  return {
    ln1: `${p}.input_layernorm`,
    ln2: `${p}.post_lru_layernorm`,
    paramsLog: `${p}.lru_layer.params_log`,
    inProj: `${p}.lru_layer.in_proj`,
    outProj: `${p}.lru_layer.out_proj`,
    ffn: (map: FfnMap) => `${p}.feed_forward.${TORCH_FFN[map]}`,
  };
}

/** Why a model with learned item-ID or attribute vectors cannot be exported. */
export function itemIdEmbeddingError(runDir: string): UserError {
  return new UserError(
    `${runDir}: the model has learned item-ID or attribute vectors, which the reference model has no place for; ` +
      "only a model of item features alone can be exported to the reference's names",
    'no-reference-features',
  );
}

/** The reference state_dict of a model (float32; complex tensors with a trailing 2). */
export function toTorchStateDict(model: FmrlRec, features: FeatureParts | null, runDir: string): Record<string, Tensor> {
  const { config, params, bounds, numRows: rows, width: d } = model;
  if (params.has(ITEM_ID_EMBEDDING) || params.has(ATTRIBUTE_EMBEDDING)) throw itemIdEmbeddingError(runDir);
  if (!features || !params.has(PROJECTION_WEIGHT)) throw new UserError(`${runDir}: the model has no item features; the reference model needs them`);
  const out: Record<string, Tensor> = {
    [TORCH_TOKEN_LANG]: { data: features.lang, shape: [rows, features.langDim] },
    [TORCH_TOKEN_IMG]: { data: features.img, shape: [rows, features.imgDim] },
    [TORCH_PROJECTION_WEIGHT]: { data: params.value(PROJECTION_WEIGHT), shape: [d, config.featureDim] },
    [TORCH_PROJECTION_BIAS]: { data: params.value(PROJECTION_BIAS), shape: [d] },
  };
  const chunks = bounds.length - 1;
  for (let b = 0; b < config.numBlocks; b++) {
    const ours = blockParamNames(b);
    const ref = torchBlock(b);
    for (const [ln, torchLn] of [
      [ours.ln1, ref.ln1],
      [ours.ln2, ref.ln2],
    ] as const) {
      for (let k = 0; k < chunks; k++) {
        out[`${torchLn}.layernorm_${k}.weight`] = vectorChunk(params.value(ln.weight), bounds, k);
        out[`${torchLn}.layernorm_${k}.bias`] = vectorChunk(params.value(ln.bias), bounds, k);
      }
    }
    const paramsLog = new Float32Array(3 * d);
    paramsLog.set(params.value(ours.lru.nuLog), 0);
    paramsLog.set(params.value(ours.lru.thetaLog), d);
    paramsLog.set(params.value(ours.lru.gammaLog), 2 * d);
    out[ref.paramsLog] = { data: paramsLog, shape: [3, d] };
    const zeros = new Float32Array(d);
    for (let k = 0; k < chunks; k++) {
      out[`${ref.inProj}.mrl_linear_${k}.weight`] = complexMatrixChunk(params.value(ours.lru.inReW), params.value(ours.lru.inImW), bounds, k);
      out[`${ref.inProj}.mrl_linear_${k}.bias`] = complexVectorChunk(params.value(ours.lru.inReB), params.value(ours.lru.inImB), bounds, k);
      out[`${ref.outProj}.mrl_linear_${k}.weight`] = complexMatrixChunk(params.value(ours.lru.outReW), params.value(ours.lru.outImW), bounds, k);
      out[`${ref.outProj}.mrl_linear_${k}.bias`] = complexVectorChunk(params.value(ours.lru.outReB), zeros, bounds, k);
      for (const map of FFN_MAPS) {
        out[`${ref.ffn(map)}.mrl_linear_${k}.weight`] = matrixChunk(params.value(ours.ffn[map].weight), bounds, k);
        out[`${ref.ffn(map)}.mrl_linear_${k}.bias`] = vectorChunk(params.value(ours.ffn[map].bias), bounds, k);
      }
    }
  }
  return out;
}

/** What a reference state_dict describes. */
export interface TorchModel {
  /** The ladder, from the MRL chunk shapes. */
  dims: number[];
  numBlocks: number;
  /** Rows of the feature tables (N + 1). */
  numRows: number;
  features: FeatureParts;
  /** Our parameter name → values in our layout (MRL matrices D×D). */
  params: Map<string, Float32Array>;
}

/**
 * Read a reference state_dict (as float32 tensors, complex with a trailing 2).
 * Every expected tensor must be there with its exact shape; names the
 * reference does not have are refused. `source` names the file in errors.
 */
export function fromTorchStateDict(tensors: Record<string, Tensor>, source: string): TorchModel {
  const used = new Set<string>();
  const get = (name: string, shape: number[]): Float32Array => {
    const t = tensors[name];
    if (!t) throw new UserError(`${source}: tensor ${name} is missing (is this a state_dict of the fMRLRec reference model?)`);
    if (!(t.data instanceof Float32Array)) throw new UserError(`${source}: tensor ${name} must be float32`);
    if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
      throw new UserError(`${source}: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    used.add(name);
    return t.data;
  };
  const lang = tensors[TORCH_TOKEN_LANG];
  const img = tensors[TORCH_TOKEN_IMG];
  const projection = tensors[TORCH_PROJECTION_WEIGHT];
  if (!lang || !img || !projection || lang.shape.length !== 2 || img.shape.length !== 2 || projection.shape.length !== 2) {
    throw new UserError(
      `${source}: expected ${TORCH_TOKEN_LANG}, ${TORCH_TOKEN_IMG} and ${TORCH_PROJECTION_WEIGHT} (2-D); is this a state_dict of the fMRLRec reference model?`,
    );
  }
  const rows = lang.shape[0];
  const [langDim, imgDim] = [lang.shape[1], img.shape[1]];
  const d = projection.shape[0];
  const features: FeatureParts = { lang: get(TORCH_TOKEN_LANG, [rows, langDim]), langDim, img: get(TORCH_TOKEN_IMG, [rows, imgDim]), imgDim };
  const params = new Map<string, Float32Array>();
  params.set(PROJECTION_WEIGHT, get(TORCH_PROJECTION_WEIGHT, [d, langDim + imgDim]));
  params.set(PROJECTION_BIAS, get(TORCH_PROJECTION_BIAS, [d]));

  let numBlocks = 0;
  while (tensors[`${torchBlock(numBlocks).paramsLog}`]) numBlocks++;
  if (numBlocks === 0) throw new UserError(`${source}: no model.lru_blocks.0.lru_layer.params_log; is this a state_dict of the fMRLRec reference model?`);
  const dims: number[] = [];
  for (let k = 0; ; k++) {
    const w = tensors[`${torchBlock(0).ffn('gate')}.mrl_linear_${k}.weight`];
    if (!w) break;
    dims.push(w.shape[1]);
  }
  if (dims.length === 0 || dims[dims.length - 1] !== d || dims.some((m, k) => k > 0 && m <= dims[k - 1])) {
    throw new UserError(`${source}: the MRL chunks give sizes [${dims.join(', ')}], which do not form a ladder ending at the projection width ${d}`);
  }
  const bounds = Int32Array.from([0, ...dims]);
  for (let b = 0; b < numBlocks; b++) {
    const ours = blockParamNames(b);
    const ref = torchBlock(b);
    for (const [ln, torchLn] of [
      [ours.ln1, ref.ln1],
      [ours.ln2, ref.ln2],
    ] as const) {
      params.set(
        ln.weight,
        joinVector(bounds, (k, n) => get(`${torchLn}.layernorm_${k}.weight`, [n])),
      );
      params.set(
        ln.bias,
        joinVector(bounds, (k, n) => get(`${torchLn}.layernorm_${k}.bias`, [n])),
      );
    }
    const paramsLog = get(ref.paramsLog, [3, d]);
    params.set(ours.lru.nuLog, paramsLog.slice(0, d));
    params.set(ours.lru.thetaLog, paramsLog.slice(d, 2 * d));
    params.set(ours.lru.gammaLog, paramsLog.slice(2 * d, 3 * d));
    for (const [proj, re, im] of [
      [ref.inProj, ours.lru.inReW, ours.lru.inImW],
      [ref.outProj, ours.lru.outReW, ours.lru.outImW],
    ] as const) {
      const [wRe, wIm] = joinComplexMatrix(bounds, (k, rowsK, cols) => get(`${proj}.mrl_linear_${k}.weight`, [rowsK, cols, 2]));
      params.set(re, wRe);
      params.set(im, wIm);
    }
    const [inBRe, inBIm] = joinComplexVector(bounds, (k, n) => get(`${ref.inProj}.mrl_linear_${k}.bias`, [n, 2]));
    params.set(ours.lru.inReB, inBRe);
    params.set(ours.lru.inImB, inBIm);
    // The imaginary part of out_proj's bias has no effect on Re(C h + b): dropped.
    params.set(ours.lru.outReB, joinComplexVector(bounds, (k, n) => get(`${ref.outProj}.mrl_linear_${k}.bias`, [n, 2]))[0]);
    for (const map of FFN_MAPS) {
      params.set(
        ours.ffn[map].weight,
        joinMatrix(bounds, (k, rowsK, cols) => get(`${ref.ffn(map)}.mrl_linear_${k}.weight`, [rowsK, cols])),
      );
      params.set(
        ours.ffn[map].bias,
        joinVector(bounds, (k, n) => get(`${ref.ffn(map)}.mrl_linear_${k}.bias`, [n])),
      );
    }
  }
  const extra = Object.keys(tensors).filter((name) => !used.has(name));
  if (extra.length > 0) {
    throw new UserError(
      `${source}: tensors the fMRLRec reference model does not have (${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}); ` +
        `expected ${numBlocks} block(s) with sizes ${dims.join(', ')}`,
    );
  }
  return { dims, numBlocks, numRows: rows, features, params };
}

/** Copy a TorchModel's parameters into a model built with its dims, blocks and features. */
export function applyTorchModel(model: FmrlRec, imported: TorchModel): void {
  for (const spec of model.params.specs) {
    const values = imported.params.get(spec.name);
    if (!values || values.length !== spec.size) throw new Error(`imported parameters do not fit ${spec.name}`);
    model.params.value(spec.name).set(values);
  }
}

// --- chunk ↔ full layout -------------------------------------------------------

function vectorChunk(v: Float32Array, bounds: Int32Array, k: number): Tensor {
  return { data: v.slice(bounds[k], bounds[k + 1]), shape: [bounds[k + 1] - bounds[k]] };
}

function matrixChunk(w: Float32Array, bounds: Int32Array, k: number): Tensor {
  const d = bounds[bounds.length - 1];
  const [c0, c1] = [bounds[k], bounds[k + 1]];
  const out = new Float32Array((c1 - c0) * c1);
  for (let i = c0; i < c1; i++) out.set(w.subarray(i * d, i * d + c1), (i - c0) * c1);
  return { data: out, shape: [c1 - c0, c1] };
}

function complexVectorChunk(re: Float32Array, im: Float32Array, bounds: Int32Array, k: number): Tensor {
  const [c0, c1] = [bounds[k], bounds[k + 1]];
  const out = new Float32Array(2 * (c1 - c0));
  for (let i = c0; i < c1; i++) {
    out[2 * (i - c0)] = re[i];
    out[2 * (i - c0) + 1] = im[i];
  }
  return { data: out, shape: [c1 - c0, 2] };
}

function complexMatrixChunk(re: Float32Array, im: Float32Array, bounds: Int32Array, k: number): Tensor {
  const d = bounds[bounds.length - 1];
  const [c0, c1] = [bounds[k], bounds[k + 1]];
  const out = new Float32Array(2 * (c1 - c0) * c1);
  for (let i = c0; i < c1; i++) {
    for (let j = 0; j < c1; j++) {
      const o = 2 * ((i - c0) * c1 + j);
      out[o] = re[i * d + j];
      out[o + 1] = im[i * d + j];
    }
  }
  return { data: out, shape: [c1 - c0, c1, 2] };
}

function joinVector(bounds: Int32Array, chunk: (k: number, n: number) => Float32Array): Float32Array {
  const out = new Float32Array(bounds[bounds.length - 1]);
  for (let k = 0; k + 1 < bounds.length; k++) out.set(chunk(k, bounds[k + 1] - bounds[k]), bounds[k]);
  return out;
}

function joinMatrix(bounds: Int32Array, chunk: (k: number, rows: number, cols: number) => Float32Array): Float32Array {
  const d = bounds[bounds.length - 1];
  const out = new Float32Array(d * d);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [c0, c1] = [bounds[k], bounds[k + 1]];
    const w = chunk(k, c1 - c0, c1);
    for (let i = c0; i < c1; i++) out.set(w.subarray((i - c0) * c1, (i - c0 + 1) * c1), i * d);
  }
  return out;
}

function joinComplexVector(bounds: Int32Array, chunk: (k: number, n: number) => Float32Array): [Float32Array, Float32Array] {
  const d = bounds[bounds.length - 1];
  const re = new Float32Array(d);
  const im = new Float32Array(d);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const v = chunk(k, bounds[k + 1] - bounds[k]);
    for (let i = bounds[k]; i < bounds[k + 1]; i++) {
      re[i] = v[2 * (i - bounds[k])];
      im[i] = v[2 * (i - bounds[k]) + 1];
    }
  }
  return [re, im];
}

function joinComplexMatrix(bounds: Int32Array, chunk: (k: number, rows: number, cols: number) => Float32Array): [Float32Array, Float32Array] {
  const d = bounds[bounds.length - 1];
  const re = new Float32Array(d * d);
  const im = new Float32Array(d * d);
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [c0, c1] = [bounds[k], bounds[k + 1]];
    const w = chunk(k, c1 - c0, c1);
    for (let i = c0; i < c1; i++) {
      for (let j = 0; j < c1; j++) {
        const o = 2 * ((i - c0) * c1 + j);
        re[i * d + j] = w[o];
        im[i * d + j] = w[o + 1];
      }
    }
  }
  return [re, im];
}
