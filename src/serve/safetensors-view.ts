/**
 * Read float32 tensors out of safetensors bytes already in memory, without
 * Node's Buffer or fs, so that the engine loads the same files in a browser.
 * (src/util/safetensors.ts is the Node reader/writer used everywhere else; this
 * is its read-only, F32-only, zero-copy counterpart for bytes from fetch().)
 */
import { UserError } from '../util/errors';

/** A float32 tensor: row-major values and shape. */
export interface Float32Tensor {
  data: Float32Array;
  shape: number[];
}

/**
 * The float32 tensors of a safetensors file. Views share `bytes`' memory when
 * it is 4-byte aligned (copies otherwise). `source` names the file in errors.
 */
export function viewSafetensors(bytes: Uint8Array, source: string): Record<string, Float32Tensor> {
  if (bytes.length < 8) throw new UserError(`${source}: not a safetensors file (too short)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.length) throw new UserError(`${source}: not a safetensors file (bad header length)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    throw new UserError(`${source}: not a safetensors file (header is not JSON)`);
  }
  const base = 8 + headerLen;
  const tensors: Record<string, Float32Tensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (info.dtype !== 'F32') throw new UserError(`${source}: tensor ${name} is ${info.dtype}, expected F32`);
    const [begin, end] = info.data_offsets;
    if (!(begin >= 0 && end >= begin && base + end <= bytes.length && (end - begin) % 4 === 0)) {
      throw new UserError(`${source}: tensor ${name} lies outside the file (truncated?)`);
    }
    const start = bytes.byteOffset + base + begin;
    const count = (end - begin) / 4;
    const data = start % 4 === 0
      ? new Float32Array(bytes.buffer, start, count)
      : new Float32Array(bytes.slice(base + begin, base + end).buffer);
    if (info.shape.reduce((a, b) => a * b, 1) !== count) throw new UserError(`${source}: tensor ${name} shape [${info.shape}] does not match its bytes`);
    tensors[name] = { data, shape: info.shape };
  }
  return tensors;
}
