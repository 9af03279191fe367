/** Safetensors files on disk: the format of ./safetensors.ts, read and written atomically. */
import * as fs from 'node:fs';
import { UserError } from './errors';
import { writeFileAtomic } from './files';
import { decodeSafetensors, DecodedSafetensors, encodeSafetensors, Tensor } from './safetensors';

/** Write a safetensors file atomically (temporary file, then rename). */
export function writeSafetensors(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

/**
 * Read a safetensors file.
 * @throws UserError when the file is missing or malformed
 */
export function readSafetensors(file: string): DecodedSafetensors {
  if (!fs.existsSync(file)) throw new UserError(`${file}: file not found`);
  return decodeSafetensors(fs.readFileSync(file), file);
}

/**
 * The number of values stored in a safetensors file (the sum over its tensors
 * of the product of the shape), read from the header alone.
 * @throws UserError when the file is missing or its header is malformed
 */
export function safetensorsValueCount(file: string): number {
  if (!fs.existsSync(file)) throw new UserError(`${file}: file not found`);
  const fd = fs.openSync(file, 'r');
  try {
    const prefix = Buffer.alloc(8);
    fs.readSync(fd, prefix, 0, 8, 0);
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (!(headerLength > 0 && headerLength < 100_000_000)) throw new UserError(`${file}: not a safetensors file (bad header length)`);
    const header = Buffer.alloc(headerLength);
    fs.readSync(fd, header, 0, headerLength, 8);
    let entries: Record<string, { shape?: number[] }>;
    try {
      entries = JSON.parse(header.toString('utf8'));
    } catch {
      throw new UserError(`${file}: not a safetensors file (header is not JSON)`);
    }
    let count = 0;
    for (const [name, entry] of Object.entries(entries)) {
      if (name === '__metadata__') continue;
      if (!Array.isArray(entry.shape)) throw new UserError(`${file}: tensor ${name} has no shape`);
      count += entry.shape.reduce((a, b) => a * b, 1);
    }
    return count;
  } finally {
    fs.closeSync(fd);
  }
}
