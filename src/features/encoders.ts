/**
 * The text encoders fmrlrec knows by name (`--text-encoder <name>` on the CLI).
 *
 * Adding an encoder (for example a transformers.js model run from a local folder):
 * 1. write `src/features/<name>.ts` exporting a function
 *    `(options: TextEncoderOptions) => TextEncoderSource` whose `load()` returns a
 *    {@link TextEncoder}: `encode` must return texts.length × dim L2-normalised
 *    rows in input order, and `id` must change whenever the vectors would
 *    (another model, pooling or preprocessing), because cached features are keyed
 *    by it;
 * 2. add it to {@link TEXT_ENCODERS} below under its name;
 * 3. test it like the Universal Sentence Encoder in test/features.test.ts (unit
 *    norm, width, a similarity sanity check, batch invariance).
 * Keep `load()` the only place that touches weights: until it is called, nothing
 * heavy may be imported, so a run that finds its features cached stays fast.
 */
import { UserError } from '../util/errors';
import type { TextEncoder, TextEncoderOptions, TextEncoderSource } from './text-encoder';
import { universalSentenceEncoderSource, USE_ID } from './universal-sentence-encoder';
import { HF_PREFIX, huggingFaceTextSource, type HuggingFaceOptions } from './huggingface';

/** Registry: encoder name → how to make its source. */
const TEXT_ENCODERS: Readonly<Record<string, (options: TextEncoderOptions) => TextEncoderSource>> = {
  [USE_ID]: universalSentenceEncoderSource,
};

/** The encoder used when none is named: Universal Sentence Encoder lite (offline). */
export const DEFAULT_TEXT_ENCODER = USE_ID;

/** Names accepted by {@link textEncoderSource} and {@link createTextEncoder}. */
export function textEncoderNames(): string[] {
  return Object.keys(TEXT_ENCODERS);
}

/**
 * The named encoder, not loaded yet.
 * @throws UserError for an unknown name (the message lists the known ones) or bad options
 */
export function textEncoderSource(name: string, options: TextEncoderOptions & HuggingFaceOptions = {}): TextEncoderSource {
  if (name.startsWith(HF_PREFIX)) return huggingFaceTextSource(name.slice(HF_PREFIX.length), options);
  const make = Object.hasOwn(TEXT_ENCODERS, name) ? TEXT_ENCODERS[name] : undefined;
  if (!make) throw new UserError(`unknown text encoder "${name}" (known: ${textEncoderNames().join(', ')}, or ${HF_PREFIX}<hub id or model folder>)`);
  return make(options);
}

/** Load the named encoder (see {@link textEncoderSource}). */
export function createTextEncoder(name: string, options: TextEncoderOptions = {}): Promise<TextEncoder> {
  return textEncoderSource(name, options).load();
}
