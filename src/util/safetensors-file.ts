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
