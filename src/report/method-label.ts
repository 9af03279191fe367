/**
 * What a run's features make of the method, in words, so every report row says
 * exactly what it is: the paper's method is frozen pretrained item features →
 * projection; the project's default is a hybrid that adds learned vectors.
 */
import { HF_PREFIX } from '../features/huggingface';
import { USE_ID } from '../features/universal-sentence-encoder';
import { defaultFeatures } from '../run/defaults';
import { featureLabel } from '../run/run-config';
import { REFERENCE_FEATURES_NAME } from '../deploy/reference-features';

/** An encoder name as readers know it ("use" → "USE", "hf:BAAI/bge-large-en-v1.5" → the hub id). */
function encoderName(name: string): string {
  if (name === USE_ID) return 'USE';
  return name.startsWith(HF_PREFIX) ? name.slice(HF_PREFIX.length) : name;
}

/**
 * The method of a run, from its features label as metrics.json records it
 * (featureLabel of the features really used, e.g. "text:use+attr+words+id"),
 * and the rule of its count prior when it has one (not in the paper).
 */
export function methodDescription(features: string, countPriorRule: string | null = null): string {
  const network = networkDescription(features);
  return countPriorRule ? `${network} + count prior (${countPriorRule}; not in the paper)` : network;
}

/** The network's part of {@link methodDescription}. */
function networkDescription(features: string): string {
  const frozen: string[] = [];
  const learned: string[] = [];
  for (const part of features.split('+')) {
    if (part === `text:${REFERENCE_FEATURES_NAME}`) frozen.push('imported (import-torch)');
    else if (part.startsWith('text:')) frozen.push(`${encoderName(part.slice('text:'.length))} text`);
    else if (part.startsWith('image:')) frozen.push(`${encoderName(part.slice('image:'.length))} image`);
    else if (part === 'attr') learned.push('brand/category');
    else if (part === 'words') learned.push('title-word');
    else if (part === 'id') learned.push('item-ID');
  }
  const isDefault = features === featureLabel(defaultFeatures());
  const frozenText = `frozen ${frozen.join(' + ')} features → projection`;
  const learnedText = `learned ${learned.join(', ')} vectors`;
  if (frozen.length === 0 && learned.length === 1 && learned[0] === 'item-ID') return 'item-ID embeddings only (LRURec-style)';
  if (frozen.length === 0) return `${learnedText} only (no frozen features)`;
  const textOnly = frozen.length === 1 && frozen[0].endsWith(' text');
  if (learned.length === 0) return `${frozenText} (the paper's method${textOnly ? `, ${frozen[0]} only` : ''})`;
  return `hybrid: ${frozenText} + ${learnedText}${isDefault ? ' (project default)' : ''}`;
}
