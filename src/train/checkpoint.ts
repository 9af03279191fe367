/**
 * Checkpoints in safetensors files, written atomically (temporary file, then
 * rename), so a kill at any moment leaves the previous checkpoint intact.
 *
 * - parameters: one tensor per named parameter (model.params specs);
 * - a training checkpoint adds the AdamW moments ("optimizer.m", "optimizer.v")
 *   and the trainer state as JSON in the metadata ("state").
 */
import type { FmrlRec } from '../model/fmrlrec';
import { UserError } from '../util/errors';
import type { Float32Tensor, Tensor } from '../util/safetensors';
import { readSafetensors, writeSafetensors } from '../util/safetensors-file';
import type { AdamW } from './adamw';

/** Where training stands; saved with every checkpoint. */
export interface TrainState {
  /** Completed epochs. */
  epoch: number;
  /** Optimizer steps taken. */
  step: number;
  /** Epoch (1-based) of the best validation score so far, 0 if none. */
  bestEpoch: number;
  /** Best validation NDCG@10 of the largest size. */
  bestScore: number;
  /** Epochs since the best one. */
  badEpochs: number;
  /** Wall-clock seconds spent training so far (over all resumed sessions). */
  trainSeconds: number;
  /** One entry per completed epoch. */
  history: EpochRecord[];
}

/** What one epoch did, kept in the trainer state's history. */
export interface EpochRecord {
  /** The epoch (1-based). */
  epoch: number;
  /** Mean training loss over the epoch. */
  loss: number;
  /** Validation NDCG@10 of the largest size. */
  validNdcg10: number;
  /** Wall-clock seconds of the epoch (training + validation). */
  seconds: number;
}

/** The model's parameters as named tensors (views of its values, no copy). */
export function paramTensors(model: FmrlRec): Record<string, Float32Tensor> {
  const tensors: Record<string, Float32Tensor> = {};
  for (const spec of model.params.specs) tensors[spec.name] = { data: model.params.value(spec.name), shape: spec.shape };
  return tensors;
}

/** Save the parameters only. */
export function saveParams(file: string, model: FmrlRec, metadata: Record<string, string> = {}): void {
  writeSafetensors(file, paramTensors(model), metadata);
}

/** Load parameters saved by saveParams/saveTrainingCheckpoint into model; every name and shape must match. */
export function loadParams(file: string, model: FmrlRec): Record<string, string> {
  const { tensors, metadata } = readSafetensors(file);
  applyParams(tensors, model, file);
  return metadata;
}

function applyParams(tensors: Record<string, Tensor>, model: FmrlRec, file: string): void {
  for (const spec of model.params.specs) {
    const t = tensors[spec.name];
    if (!t) throw new UserError(`${file}: parameter ${spec.name} is missing (was the run made with another configuration?)`);
    if (t.data.length !== spec.size || !(t.data instanceof Float32Array)) {
      throw new UserError(`${file}: parameter ${spec.name} has shape [${t.shape}], expected [${spec.shape}]`);
    }
    model.params.value(spec.name).set(t.data);
  }
}

/** Save parameters, optimizer moments and trainer state. */
export function saveTrainingCheckpoint(file: string, model: FmrlRec, optimizer: AdamW, state: TrainState): void {
  const tensors = paramTensors(model);
  tensors['optimizer.m'] = { data: optimizer.m, shape: [optimizer.m.length] };
  tensors['optimizer.v'] = { data: optimizer.v, shape: [optimizer.v.length] };
  writeSafetensors(file, tensors, { state: JSON.stringify(state) });
}

/** Restore what saveTrainingCheckpoint wrote; returns the trainer state. */
export function loadTrainingCheckpoint(file: string, model: FmrlRec, optimizer: AdamW): TrainState {
  const { tensors, metadata } = readSafetensors(file);
  applyParams(tensors, model, file);
  const m = tensors['optimizer.m'];
  const v = tensors['optimizer.v'];
  if (!m || !v || m.data.length !== optimizer.m.length || v.data.length !== optimizer.v.length || !metadata.state) {
    throw new UserError(`${file}: not a training checkpoint of this model`);
  }
  optimizer.m.set(m.data as Float32Array);
  optimizer.v.set(v.data as Float32Array);
  const state = JSON.parse(metadata.state) as TrainState;
  optimizer.step = state.step;
  return state;
}
