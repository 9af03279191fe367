/**
 * Errors caused by the user's input (a bad file, a bad option). The CLI prints
 * their message as one line and exits non-zero, without a stack trace.
 */

/**
 * What a UserError is about, for callers that add their own advice: the
 * library's messages say what is wrong; the CLI adds which flag fixes it
 * (src/cli/errors.ts).
 */
export type UserErrorCode =
  /** The output folder holds a training run already (it can be resumed). */
  | 'run-exists'
  /** The output folder holds files that must not be overwritten. */
  | 'folder-not-empty'
  /** The output folder holds an earlier export (it can be replaced). */
  | 'export-exists'
  /** An export size that is not in the model's ladder. */
  | 'size-not-in-ladder'
  /** A malformed line in an input file, with malformed lines fatal. */
  | 'malformed-line'
  /** Raw Amazon files that are neither present nor downloadable. */
  | 'raw-files-missing'
  /** A run whose features have no counterpart in the reference's names. */
  | 'no-reference-features'
  /** A Hugging Face model that is not here and may not be downloaded. */
  | 'download-not-allowed'
  /** A run folder whose training has not finished (no metrics report yet). */
  | 'run-unfinished'
  /** The service's port is taken by another process. */
  | 'address-in-use'
  /** The service may not listen on its host and port (a port below 1024 needs privileges). */
  | 'listen-not-allowed'
  /** A CORS origin that is not scheme://host[:port]. */
  | 'bad-cors-origin'
  /** A PostgreSQL store URL that cannot be used (not a URL, not postgres://, a bad schema name). */
  | 'bad-store-url'
  /** An embedded store folder that another live process holds. */
  | 'store-in-use'
  /** A store that holds the user states or added items of another model. */
  | 'store-of-another-model';

/** An error caused by the user's input; `code` says what it is about when a caller may want to advise. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly code?: UserErrorCode,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A UserError about a place in an input file: "file:line: problem". */
export class InputFileError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly problem: string,
    code?: UserErrorCode,
  ) {
    super(line === null ? `${file}: ${problem}` : `${file}:${line}: ${problem}`, code);
    this.name = 'InputFileError';
  }
}
