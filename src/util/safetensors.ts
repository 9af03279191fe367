/**
 * Minimal reader/writer for the safetensors format (8-byte little-endian header
 * length, JSON header, raw little-endian tensor bytes). Supports F32, F64 and I32.
 */
import * as fs from 'node:fs';
import { UserError } from './errors';
import { writeFileAtomic } from './files';

export type TensorData = Float32Array | Float64Array | Int32Array;

export interface Tensor {
  data: TensorData;
  shape: number[];
}

const DTYPES = { F32: Float32Array, F64: Float64Array, I32: Int32Array } as const;
type DType = keyof typeof DTYPES;

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  return 'I32';
}

/** Serialise tensors (and string metadata) to a safetensors buffer. */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Buffer {
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
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json);
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = tensors[name];
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, pos);
    pos += data.byteLength;
  }
  return out;
}

/** Write a safetensors file atomically. */
export function writeSafetensors(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/** Parse a safetensors buffer; `source` names it in error messages. */
export function decodeSafetensors(buf: Buffer, source = 'safetensors data'): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new UserError(`${source}: not a safetensors file (too short)`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen <= 0 || 8 + headerLen > buf.length) throw new UserError(`${source}: not a safetensors file (bad header length)`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch {
    throw new UserError(`${source}: not a safetensors file (header is not JSON)`);
  }
  const base = 8 + headerLen;
  const tensors: Record<string, Tensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const ctor = DTYPES[info.dtype as DType];
    if (!ctor) throw new UserError(`${source}: tensor ${name} has unsupported dtype ${info.dtype} (F32, F64, I32 are supported)`);
    const [begin, end] = info.data_offsets as [number, number];
    if (!(begin >= 0 && end >= begin && base + end <= buf.length)) throw new UserError(`${source}: tensor ${name} lies outside the file (truncated?)`);
    const bytes = buf.subarray(base + begin, base + end);
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    const data = new ctor(copy.buffer);
    const shape = info.shape as number[];
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new UserError(`${source}: tensor ${name} shape [${shape}] does not match its bytes`);
    tensors[name] = { data, shape };
  }
  return { tensors, metadata: (header.__metadata__ as Record<string, string>) ?? {} };
}

/** Read a safetensors file. */
export function readSafetensors(file: string): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  if (!fs.existsSync(file)) throw new UserError(`${file}: file not found`);
  return decodeSafetensors(fs.readFileSync(file), file);
}
