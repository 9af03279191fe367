/**
 * Item features (docs/method.md §3): the item text template, text encoders, brand and
 * category attributes, `.npy` I/O and the cached item feature matrix.
 */
export { itemText, TEMPLATE_VERSION, UNTITLED_ITEM } from './template';
export { attributeFeatures, itemAttributes, titleWords, type AttributeKinds, type NamedItemAttributes } from './attributes';
export type { TextEncoder, TextEncoderOptions, TextEncoderSource } from './text-encoder';
export { normalizeRows } from './text-encoder';
export { createTextEncoder, DEFAULT_TEXT_ENCODER, textEncoderNames, textEncoderSource } from './encoders';
export { USE_DIM, USE_ID } from './universal-sentence-encoder';
export { readNpy, writeNpy, type NpyArray } from './npy';
export { itemTextsSha256, loadItemFeatures, type CacheSidecar, type ItemFeatures, type LoadItemFeaturesOptions } from './cache';
export {
  HF_PREFIX,
  huggingFaceTextSource,
  huggingFaceImageSource,
  defaultModelsDir,
  type HuggingFaceOptions,
  type ImageEncoder,
  type ImageEncoderSource,
} from './huggingface';
export { itemImageSources, readImageSources, IMAGE_EXTENSIONS, type ImageSource, type ItemImageOptions } from './images';
export { loadItemImageFeatures, type ImageFeatures, type ImageCacheSidecar, type MissingImage, type LoadImageFeaturesOptions } from './image-cache';
