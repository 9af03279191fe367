/**
 * Reading dataset files with errors that name the file and the line
 * ({@link InputFileError}), shared by the P5 and generic readers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputFileError } from '../util/errors';

/**
 * Read a whole text file (UTF-8, a leading byte-order mark dropped).
 * @param file    the file to read
 * @param purpose what the file is for, named in the error when it is missing
 *                (e.g. "a P5 dataset folder needs sequential_data.txt")
 * @throws InputFileError when the file is missing or unreadable
 */
export function readInputText(file: string, purpose: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const folder = path.dirname(file);
      const where = fs.existsSync(folder) ? `not found in folder ${folder}` : `folder ${folder} does not exist`;
      throw new InputFileError(file, null, `missing file (${purpose}): ${where}`);
    }
    throw new InputFileError(file, null, `cannot read: ${(err as Error).message}`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parse JSON text, turning a syntax error into an InputFileError at the line of
 * the fault (when the JavaScript engine reports a position).
 * @param text      JSON text
 * @param file      file name for the error
 * @param firstLine line number of the text's first line in the file (1 for a whole file)
 */
export function parseJsonText(text: string, file: string, firstLine = 1): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // A fault at the very end (input cut short) belongs to the last non-blank line.
    const end = text.trimEnd().length;
    const at = /at position (\d+)/.exec(message);
    let line: number | null;
    if (at !== null) line = firstLine + countNewlines(text, Math.min(Number(at[1]), end));
    else if (/end of JSON input/.test(message)) line = firstLine + countNewlines(text, end);
    else line = text.includes('\n') ? null : firstLine;
    throw new InputFileError(file, line, `invalid JSON: ${message}`);
  }
}

function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Split text into lines, accepting both LF and CRLF endings. Line k (1-based) is lines[k-1]. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
  }
  return lines;
}

/** True when value is a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
