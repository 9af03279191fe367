/**
 * The CLI's advice on library errors: the library says what is wrong
 * (UserError.code says what about); the CLI adds which flag fixes it.
 */
import type { UserError, UserErrorCode } from '../util/errors';

const FLAG_ADVICE: Record<UserErrorCode, string> = {
  'run-exists': 'continue it with --resume, or choose another --out',
  'folder-not-empty': 'choose another --out',
  'export-exists': 'pass --force to replace it',
  'size-not-in-ladder': '--size takes one of them, or "all"',
  'malformed-line': 'use --on-malformed skip to skip such lines',
  'raw-files-missing': 'then run again, with --raw naming that folder if it is not <out>/raw',
  'no-reference-features': 'runs trained with --features text can be exported',
  'download-not-allowed': '"fmrlrec features --allow-download" or FMRLREC_HF_DOWNLOAD=1 allows it',
  'run-unfinished': '"fmrlrec train --resume --out <that folder>" completes it',
  'address-in-use': 'choose another --port',
  'listen-not-allowed': 'choose another --port or --host',
  'bad-cors-origin': 'in --cors',
  'bad-store-url': 'in --store or FMRLREC_STORE',
  'store-in-use': 'for several replicas, use --store postgres://...',
  'store-of-another-model': 'another --state folder, or another schema: ?schema=<name> in the --store URL',
};

/** The message of a UserError as the CLI prints it: the library's message, then the flag advice for its code. */
export function cliErrorMessage(err: UserError): string {
  return err.code === undefined ? err.message : `${err.message} (${FLAG_ADVICE[err.code]})`;
}
