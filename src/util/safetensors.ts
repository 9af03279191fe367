/**
 * The safetensors format (8-byte little-endian header length, JSON header,
 * raw little-endian tensor bytes), encoded and decoded in memory. F32, F64 and
 * I32 tensors. Browser-safe (no Node module): the engine decodes the same files
 * from fetch() that the Node side reads from disk (./safetensors-file.ts).
 */
import { UserError } from './errors';

/** The element types a tensor may hold. */
export type TensorData = Float32Array | Float64Array | Int32Array;

/** A tensor: row-major values and shape. */
export interface Tensor<T extends TensorData = TensorData> {
  data: T;
  shape: number[];
}

/** A float32 tensor (what models and item tables are made of). */
export type Float32Tensor = Tensor<Float32Array>;

/** The tensors of a safetensors file and its string metadata. */
export interface DecodedSafetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const DTYPES = { F32: Float32Array, F64: Float64Array, I32: Int32Array } as const;
type DType = keyof typeof DTYPES;

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  return 'I32';
}

/** Serialise tensors (and string metadata) to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const { data, shape } = tensors[name];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new RangeError(`tensor ${name}: shape [${shape}] does not match ${data.length} values`);
    header[name] = { dtype: dtypeOf(data), shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let pos = 8 + headerLength;
  for (const name of names) {
    const { data } = tensors[name];
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    pos += data.byteLength;
  }
  return out;
}

/**
 * Parse safetensors bytes; `source` names them in error messages. Tensors are
 * views of `bytes` where their offset is aligned to the element size, copies
 * otherwise.
 * @throws UserError for anything that is not a well-formed F32/F64/I32 file
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): DecodedSafetensors {
  if (bytes.length < 8) throw new UserError(`${source}: not a safetensors file (too short)`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength <= 0 || 8 + headerLength > bytes.length) throw new UserError(`${source}: not a safetensors file (bad header length)`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new UserError(`${source}: not a safetensors file (header is not JSON)`);
  }
  const base = 8 + headerLength;
  const tensors: Record<string, Tensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const ctor = DTYPES[info.dtype as DType];
    if (!ctor) throw new UserError(`${source}: tensor ${name} has unsupported dtype ${info.dtype} (F32, F64, I32 are supported)`);
    const [begin, end] = info.data_offsets;
    const width = ctor.BYTES_PER_ELEMENT;
    if (!(begin >= 0 && end >= begin && base + end <= bytes.length && (end - begin) % width === 0)) {
      throw new UserError(`${source}: tensor ${name} lies outside the file (truncated?)`);
    }
    const start = bytes.byteOffset + base + begin;
    const count = (end - begin) / width;
    const data = start % width === 0 ? new ctor(bytes.buffer as ArrayBuffer, start, count) : new ctor(bytes.slice(base + begin, base + end).buffer);
    if (info.shape.reduce((a, b) => a * b, 1) !== count) throw new UserError(`${source}: tensor ${name} shape [${info.shape}] does not match its bytes`);
    tensors[name] = { data, shape: info.shape };
  }
  return { tensors, metadata: (header.__metadata__ as unknown as Record<string, string>) ?? {} };
}

/**
 * The tensors of safetensors bytes that must all be float32 (an exported model).
 * @throws UserError when a tensor has another dtype
 */
export function decodeFloat32Safetensors(bytes: Uint8Array, source: string): Record<string, Float32Tensor> {
  const { tensors } = decodeSafetensors(bytes, source);
  for (const [name, tensor] of Object.entries(tensors)) {
    if (!(tensor.data instanceof Float32Array)) throw new UserError(`${source}: tensor ${name} is ${dtypeOf(tensor.data)}, expected F32`);
  }
  return tensors as Record<string, Float32Tensor>;
}
