/**
 * Reading and writing float32 matrices as NumPy `.npy` files, so that cached
 * features open directly with `numpy.load`.
 *
 * Format (NumPy format spec): the magic `\x93NUMPY`, a major and minor version
 * byte, the header length (uint16 little-endian in version 1.0, uint32 in 2.0 and
 * 3.0), an ASCII header holding a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (R, C), }` padded with spaces
 * and a final newline so that the data starts at a multiple of 64 bytes, then the
 * raw little-endian data in C (row-major) order. {@link writeNpy} writes the same
 * bytes as `numpy.save`.
 */
import * as fs from 'node:fs';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/files';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
const ALIGNMENT = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;

/** An n-dimensional float32 array in C order. */
export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

/**
 * Write `data` with the given shape as a version 1.0 `.npy` file (little-endian
 * float32, C order), atomically: the file is complete or absent, never partial.
 * @throws Error when the shape does not match `data.length`
 */
export function writeNpy(file: string, data: Float32Array, shape: number[]): void {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`writeNpy: bad shape (${shape.join(', ')})`);
  }
  if (shapeSize(shape) !== data.length) {
    throw new Error(`writeNpy: shape (${shape.join(', ')}) does not hold ${data.length} values`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  // Exactly as numpy.save writes it: room for the first axis to grow to 21 digits,
  // then spaces up to the alignment (a full 64 when already aligned) and a newline.
  const dict =
    `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }` + ' '.repeat(shape.length > 0 ? GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length : 0);
  const preambleLength = MAGIC.length + 2 + 2;
  const padding = ALIGNMENT - ((preambleLength + dict.length + 1) % ALIGNMENT);
  const headerLength = dict.length + padding + 1;
  if (headerLength > 0xffff) throw new Error(`writeNpy: shape (${shape.join(', ')}) has too many dimensions`);

  const out = Buffer.alloc(preambleLength + headerLength + data.byteLength);
  MAGIC.copy(out, 0);
  out[6] = 1; // version 1.0
  out[7] = 0;
  out.writeUInt16LE(headerLength, 8);
  out.write(dict.padEnd(headerLength - 1, ' ') + '\n', preambleLength, 'latin1');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, preambleLength + headerLength);
  writeFileAtomic(file, out);
}

/**
 * Read a `.npy` file holding little-endian float32 data in C order (header
 * version 1.0, 2.0 or 3.0).
 * @throws UserError when the file is missing, is not a `.npy` file, holds another
 *   dtype or Fortran order, or its size does not match its shape
 */
export function readNpy(file: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new UserError(`${file}: cannot read (${(err as Error).message})`);
  }
  const fail = (problem: string): never => {
    throw new UserError(`${file}: ${problem}`);
  };
  if (bytes.length < 10 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) fail('not a .npy file');
  const major = bytes[6];
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = bytes.readUInt16LE(8);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated .npy header');
    headerStart = 12;
    headerLength = bytes.readUInt32LE(8);
  } else {
    return fail(`unsupported .npy version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) fail('truncated .npy header');
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart);

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortranOrder = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortranOrder === undefined || shapeText === undefined) {
    fail(`malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  if (descr !== '<f4') fail(`dtype '${descr}' is not little-endian float32 ('<f4')`);
  if (fortranOrder === 'True') fail('Fortran-ordered arrays are not supported (expected C order)');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      if (!/^\d+$/.test(s)) fail(`malformed shape (${shapeText})`);
      return Number(s);
    });

  const expectedBytes = shapeSize(shape) * 4;
  if (bytes.length - dataStart !== expectedBytes) {
    fail(`holds ${bytes.length - dataStart} data bytes, shape (${shape.join(', ')}) needs ${expectedBytes}`);
  }
  // Copy into a fresh buffer: the read buffer's offset need not be 4-byte aligned.
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + dataStart, bytes.byteOffset + bytes.length));
  return { data, shape };
}

function shapeSize(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
