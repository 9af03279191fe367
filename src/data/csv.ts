/**
 * A small RFC 4180 CSV parser: fields separated by a delimiter, optionally
 * enclosed in double quotes (which may hold delimiters, newlines and `""` for a
 * quote), LF or CRLF line ends. Blank lines are skipped.
 */
import { InputFileError } from '../util/errors';

/** One parsed record and the file line it starts on (1-based). */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * Parse CSV text into records.
 * @param text      the file's text
 * @param file      file name for errors
 * @param delimiter field separator (default ",")
 * @throws InputFileError for an unterminated quoted field or text after a closing quote
 */
export function parseCsv(text: string, file: string, delimiter = ','): CsvRecord[] {
  const records: CsvRecord[] = [];
  const QUOTE = 34,
    LF = 10,
    CR = 13;
  const sep = delimiter.charCodeAt(0);
  let fields: string[] = [];
  let recordLine = 1;
  let line = 1;
  let i = 0;
  const n = text.length;

  const endRecord = (): void => {
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: recordLine });
    fields = [];
  };

  while (i <= n) {
    // Start of a field.
    if (i < n && text.charCodeAt(i) === QUOTE) {
      const quoteLine = line;
      let value = '';
      let start = ++i;
      for (;;) {
        if (i >= n) throw new InputFileError(file, quoteLine, 'quoted field is not closed');
        const c = text.charCodeAt(i);
        if (c === QUOTE) {
          value += text.slice(start, i);
          if (text.charCodeAt(i + 1) === QUOTE) {
            value += '"';
            i += 2;
            start = i;
            continue;
          }
          i++;
          break;
        }
        if (c === LF) line++;
        i++;
      }
      fields.push(value);
      const next = i < n ? text.charCodeAt(i) : LF;
      if (next !== sep && next !== LF && next !== CR) {
        throw new InputFileError(file, line, `unexpected "${text[i]}" after a closing quote`);
      }
    } else {
      let end = i;
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === sep || c === LF || c === CR) break;
        end++;
      }
      fields.push(text.slice(i, end));
      i = end;
    }
    // After a field: a delimiter, a line end, or the end of the text.
    if (i >= n) {
      endRecord();
      break;
    }
    const c = text.charCodeAt(i);
    if (c === sep) {
      i++;
      continue;
    }
    if (c === CR) i++;
    if (text.charCodeAt(i) === LF) i++;
    endRecord();
    line++;
    recordLine = line;
  }
  return records;
}
