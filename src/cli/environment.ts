/**
 * The environment variables of the command line, read once when a command
 * starts (the library takes the same settings as options and reads none, but
 * the kernel loader's FMRLREC_KERNELS and FMRLREC_ADDON: see src/kernels/index.ts).
 *
 *   FMRLREC_CACHE_DIR     feature cache folder (else $XDG_CACHE_HOME/fmrlrec, else ~/.cache/fmrlrec)
 *   FMRLREC_HF_DOWNLOAD   "1": Hugging Face encoders and item images may be downloaded
 *   FMRLREC_MODELS_DIR    folder of local Hugging Face models (else ~/.cache/fmrlrec/models)
 *   FMRLREC_STORE         `fmrlrec serve`'s store when neither --store nor --state is given
 *   FMRLREC_TOKEN         `fmrlrec serve`'s bearer token for writes when --token is not given
 */
import * as path from 'node:path';
import { DEFAULT_CACHE_DIR } from '../run/defaults';

/** The settings the environment gives the CLI. */
export interface CliEnvironment {
  /** Feature cache folder. */
  cacheDir: string;
  /** Whether encoders and item images may be downloaded. */
  allowDownload: boolean;
  /** Folder of local Hugging Face models, when set. */
  modelsDir: string | undefined;
  /** The live store's PostgreSQL URL (or "none"), when set. */
  store: string | undefined;
  /** The bearer token that write requests need, when set. */
  token: string | undefined;
}

/** Read the CLI's settings from `env` (process.env). */
export function readEnvironment(env: NodeJS.ProcessEnv): CliEnvironment {
  const cacheDir = env.FMRLREC_CACHE_DIR || (env.XDG_CACHE_HOME ? path.join(env.XDG_CACHE_HOME, 'fmrlrec') : DEFAULT_CACHE_DIR);
  return {
    cacheDir,
    allowDownload: env.FMRLREC_HF_DOWNLOAD === '1',
    modelsDir: env.FMRLREC_MODELS_DIR || undefined,
    store: env.FMRLREC_STORE || undefined,
    token: env.FMRLREC_TOKEN || undefined,
  };
}
