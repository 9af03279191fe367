/**
 * An error caused by the user's input (a bad file, a bad flag). The CLI prints
 * its message as one line and exits non-zero, without a stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A UserError about a place in an input file: "file:line: problem". */
export class InputFileError extends UserError {
  constructor(readonly file: string, readonly line: number | null, readonly problem: string) {
    super(line === null ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = 'InputFileError';
  }
}
