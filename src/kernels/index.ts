/**
 * Where the rest of fmrlrec gets its compute kernels.
 *
 * `getKernels()` returns the fastest implementation this machine runs: the
 * native addon (build/Release/fmrlrec_kernels.node, built by `npm ci` /
 * `node-gyp rebuild`) in its best variant for this CPU, or, when the addon is
 * not built, the TypeScript twin (with one warning on stderr).
 *
 * The environment variable FMRLREC_KERNELS forces a choice:
 *   typescript | baseline | avx2 | avx512
 * (a native variant the addon lacks or the CPU cannot run is an error);
 * FMRLREC_ADDON loads the addon from another file.
 */
import * as path from 'node:path';

import { UserError } from '../util/errors';
import { referenceKernels } from './reference';
import type { Kernels } from './types';

export type { Kernels } from './types';
export { referenceKernels } from './reference';

/** The native builds of the kernels, fastest first. */
export const NATIVE_VARIANTS = ['avx512', 'avx2', 'baseline'] as const;
/** The name of one native build of the kernels (the instruction set it is compiled for). */
export type NativeVariant = (typeof NATIVE_VARIANTS)[number];

/** What native/addon.cc exports. */
interface NativeAddon {
  supportedVariants(): string[];
  createKernels(variant: string): Kernels;
}

/** The addon file: $FMRLREC_ADDON when set (e.g. the sanitizer build of scripts/sanitize.sh), else build/Release's. */
const ADDON_PATH = process.env.FMRLREC_ADDON || path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'fmrlrec_kernels.node');

let addon: NativeAddon | null | undefined; // undefined: not tried yet; null: not built
let addonError = '';
let selected: Kernels | undefined;

function loadAddon(): NativeAddon | null {
  if (addon === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a .node file found at run time: import cannot load it
      addon = require(ADDON_PATH) as NativeAddon;
    } catch (error) {
      addon = null;
      addonError = error instanceof Error ? error.message.split('\n')[0] : String(error);
    }
  }
  return addon;
}

/** The native variants this machine can run (built and supported by the CPU), fastest first; [] without the addon. */
export function availableNativeVariants(): NativeVariant[] {
  const native = loadAddon();
  if (native === null) return [];
  const supported = new Set(native.supportedVariants());
  return NATIVE_VARIANTS.filter((variant) => supported.has(variant));
}

/**
 * The native kernels of one variant. Throws if the addon is not built, or the
 * variant is not in it or needs CPU features this machine lacks.
 */
export function loadNativeKernels(variant: NativeVariant): Kernels {
  const native = loadAddon();
  if (native === null) {
    throw new UserError(`native kernels are not built (${addonError}); run \`npm ci\` or \`npm run install\``);
  }
  try {
    return native.createKernels(variant);
  } catch (error) {
    throw new UserError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * The kernels to compute with (chosen once per process): FMRLREC_KERNELS if
 * set, else the fastest native variant, else the TypeScript twin.
 */
export function getKernels(): Kernels {
  if (selected === undefined) selected = chooseKernels(process.env.FMRLREC_KERNELS);
  return selected;
}

function chooseKernels(forced: string | undefined): Kernels {
  if (forced !== undefined && forced !== '') {
    if (forced === 'typescript') return referenceKernels;
    if ((NATIVE_VARIANTS as readonly string[]).includes(forced)) return loadNativeKernels(forced as NativeVariant);
    throw new UserError(`FMRLREC_KERNELS=${forced} is not one of typescript, ${NATIVE_VARIANTS.join(', ')}`);
  }
  const [best] = availableNativeVariants();
  if (best !== undefined) return loadNativeKernels(best);
  process.stderr.write(`fmrlrec: native kernels not available (${addonError}); using the slow TypeScript kernels\n`);
  return referenceKernels;
}
