/**
 * Items added after training (docs/serving.md, "New items"): an item's vector
 * is built the way training builds every item's (docs/method.md §4.2),
 *
 *     E_new = P·f + p + Σ_j S_j A_j        (no item-ID vector: nothing was learned for it)
 *
 * with f its template text (src/features/template.ts) encoded by the model's
 * own text encoder, S its attribute row over the trained vocabulary (weights
 * 1/sqrt(count) as in src/features/attributes.ts; a value the model never saw
 * adds nothing) and P, p, A the learned projection and attribute vectors. The
 * arithmetic is the training item table's own (itemTableForward over a table
 * of the new items), at the stored width W; size m reads the first m
 * coordinates, as for every item. What the recipe needs travels in the
 * exported folder: item_recipe.json ({@link ItemRecipe}) and model.safetensors.
 *
 * Used by `fmrlrec items add` (./add-items.ts), POST /v1/items
 * (src/serve/live-items.ts) and the cold-start benchmark (bench/coldstart.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Dataset, ItemInfo } from '../data/types';
import { itemInfoFromRecord } from '../data/item-info';
import { attributeFeatures, attributesOver } from '../features/attributes';
import { textEncoderSource } from '../features/encoders';
import type { HuggingFaceOptions } from '../features/huggingface';
import { itemText, TEMPLATE_VERSION } from '../features/template';
import type { TextEncoder, TextEncoderOptions } from '../features/text-encoder';
import { referenceKernels } from '../kernels/reference';
import type { FmrlRec } from '../model/fmrlrec';
import { declareItemTable, itemTableForward, PROJECTION_BIAS } from '../model/layers/item-table';
import { ParamStore } from '../model/params';
import type { FeatureConfig } from '../run/run-config';
import { RequestError } from '../serve/recommender';
import { UserError } from '../util/errors';
import { decodeFloat32Safetensors, type Float32Tensor } from '../util/safetensors';
import { ITEM_RECIPE_FILE, type ItemRecipe, WEIGHTS_FILE } from './format';
import { REFERENCE_FEATURES_NAME } from './reference-features';

/** An item to add: its external id and the metadata its vector is built from. */
export interface ItemToAdd {
  /** External id (ASIN), new to the model. */
  asin: string;
  /** Its metadata, cleaned as dataset metadata is (src/data/item-info.ts). */
  info: ItemInfo;
}

/** Fields of an item to add (POST /v1/items entries, `fmrlrec items add` lines). */
export const ITEM_TO_ADD_FIELDS: readonly string[] = ['asin', 'title', 'brand', 'categories', 'price'];

/** External ids of added items: 1 to 64 characters, no whitespace or control characters. */
export const NEW_ASIN_PATTERN = /^[^\s\p{Cc}]{1,64}$/u;

/**
 * Check one item to add, `{"asin", "title"?, "brand"?, "categories"?: [...], "price"?}`;
 * text is cleaned like dataset metadata (HTML entities decoded, spaces collapsed).
 * @param at where it is, for errors (e.g. "items[3]"; "" names the fields alone)
 * @throws RequestError naming the first bad field (e.g. "items[3].brand"); unknown fields are refused
 */
export function parseItemToAdd(value: unknown, at: string): ItemToAdd {
  const field = (name: string) => (at ? `${at}.${name}` : name);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError(at || 'item', `${at ? `"${at}"` : 'an item'} must be an object {"asin", "title"?, "brand"?, "categories"?: [...], "price"?}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!ITEM_TO_ADD_FIELDS.includes(key)) throw new RequestError(field(key), `unknown field "${field(key)}" (fields: ${ITEM_TO_ADD_FIELDS.join(', ')})`);
  }
  const { asin, title, brand, categories, price } = record;
  if (typeof asin !== 'string' || !NEW_ASIN_PATTERN.test(asin)) {
    throw new RequestError(field('asin'), `"${field('asin')}" must be 1 to 64 characters without spaces (got ${JSON.stringify(asin)})`);
  }
  for (const [name, v] of [
    ['title', title],
    ['brand', brand],
  ] as const) {
    if (v !== undefined && v !== null && typeof v !== 'string') throw new RequestError(field(name), `"${field(name)}" must be a string`);
  }
  if (categories !== undefined && categories !== null && (!Array.isArray(categories) || categories.some((c) => typeof c !== 'string'))) {
    throw new RequestError(field('categories'), `"${field('categories')}" must be a list of strings, e.g. ["Makeup", "Nails"]`);
  }
  if (price !== undefined && price !== null && typeof price !== 'string' && (typeof price !== 'number' || !Number.isFinite(price))) {
    throw new RequestError(field('price'), `"${field('price')}" must be a number or a string (as in the training metadata)`);
  }
  return { asin, info: itemInfoFromRecord({ title, brand, categories, price }, asin, at || asin, null) };
}

/** Throws a RequestError naming the second occurrence of an ASIN given twice (`fieldOf(i)` names entry i). */
export function checkDistinctAsins(items: readonly ItemToAdd[], fieldOf: (i: number) => string): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const earlier = first.get(item.asin);
    if (earlier !== undefined) throw new RequestError(`${fieldOf(i)}.asin`, `item ${item.asin} is given twice (${fieldOf(earlier)} and ${fieldOf(i)})`);
    first.set(item.asin, i);
  });
}

/** What {@link itemRecipeOf} reads: the features a run's model uses, its dataset and the model. */
export interface RecipeSource {
  usedFeatures: Pick<FeatureConfig, 'text' | 'attributes' | 'titleWords' | 'image'>;
  dataset: Pick<Dataset, 'items'>;
  model: FmrlRec;
}

/**
 * The recipe of new items' vectors for a trained model: its text encoder and
 * template version, the feature width, and the attribute vocabulary, rebuilt
 * from the dataset by the code that built it for training.
 */
export function itemRecipeOf(source: RecipeSource): ItemRecipe {
  const { usedFeatures: f, model } = source;
  let attributes: ItemRecipe['attributes'] = null;
  if (model.attributes) {
    const kinds = { brandAndCategory: f.attributes === true, titleWords: f.titleWords === true };
    const { vocabulary } = attributeFeatures(source.dataset.items, kinds);
    if (vocabulary.length !== model.attributes.dim) {
      throw new UserError(
        `the dataset's items give ${vocabulary.length} attribute values, the model was trained with ${model.attributes.dim}: has the dataset's metadata changed since training?`,
      );
    }
    attributes = { ...kinds, vocabulary };
  }
  return {
    textEncoder: f.text ?? null,
    templateVersion: TEMPLATE_VERSION,
    featureDim: model.config.featureDim,
    imageEncoder: f.image ?? null,
    attributes,
  };
}

/** New items' vectors, row i for item i, and how many of each item's attribute values the model does not know. */
export interface NewItemVectors {
  /** items × W, row-major. */
  vectors: Float32Array;
  /** Per item: attribute values outside the trained vocabulary (they add nothing). */
  unknownAttributes: number[];
}

/** Builds new items' vectors from their metadata with a trained model's recipe and weights. */
export class ItemVectorBuilder {
  /** Width W of the vectors. */
  readonly width: number;
  private readonly params = new ParamStore();

  /**
   * @param recipe  the folder's item_recipe.json
   * @param weights the folder's model.safetensors (projection and attribute vectors at width W)
   * @param encoder the recipe's text encoder, loaded (null when the recipe has no text part)
   * @throws UserError when the recipe cannot build an item (see {@link checkRecipe}) or the weights do not fit it
   */
  constructor(
    readonly recipe: ItemRecipe,
    weights: Record<string, Float32Tensor>,
    private readonly encoder: TextEncoder | null,
  ) {
    checkRecipe(recipe);
    const bias = weights[PROJECTION_BIAS];
    if (!bias) throw new UserError(`model weights: parameter ${PROJECTION_BIAS} is missing`);
    this.width = bias.shape[0];
    if (recipe.textEncoder !== null && (encoder === null || encoder.dim !== recipe.featureDim)) {
      throw new UserError(
        `the text encoder "${recipe.textEncoder}" gives ${encoder?.dim ?? 'no'} values per text; the model was trained on ${recipe.featureDim}`,
      );
    }
    const vocabulary = recipe.attributes?.vocabulary.length ?? 0;
    declareItemTable(this.params, 1, this.width, recipe.featureDim, false, vocabulary);
    this.params.allocate();
    for (const spec of this.params.specs) {
      const t = weights[spec.name];
      if (!t || t.data.length !== spec.size || t.shape.some((s, i) => s !== spec.shape[i])) {
        throw new UserError(`model weights: parameter ${spec.name} should have shape [${spec.shape}]${t ? `, has [${t.shape}]` : ' and is missing'}`);
      }
      this.params.value(spec.name).set(t.data);
    }
  }

  /** The vectors of `items` at width W (their text is encoded in one call). */
  async vectors(items: readonly ItemInfo[]): Promise<NewItemVectors> {
    const rows = items.length + 1; // row 0: the padding item, as in the training table
    const w = this.width;
    const f = this.recipe.featureDim;
    let features: Float32Array | null = null;
    if (this.encoder && items.length > 0) {
      features = new Float32Array(rows * f);
      features.set(await this.encoder.encode(items.map(itemText)), f);
    }
    const kinds = this.recipe.attributes;
    const attributes = kinds ? attributesOver([null, ...items], kinds, kinds.vocabulary) : null;
    const table = new Float32Array(rows * w);
    itemTableForward(referenceKernels, this.params, { features, featureDim: features ? f : 0, attributes, transposedAttributes: null }, rows, w, table);
    return { vectors: table.subarray(w), unknownAttributes: attributes ? attributes.unknown.slice(1) : items.map(() => 0) };
  }
}

/**
 * Throws a UserError when items cannot be added with this recipe: features
 * imported from the reference code or with an image part (their encoders are
 * not in the folder), a template other than this fmrlrec's, or a model that
 * knows items only by their ID vectors.
 */
export function checkRecipe(recipe: ItemRecipe): void {
  if (recipe.textEncoder === REFERENCE_FEATURES_NAME) {
    throw new UserError(
      'this model\'s item features were imported from the reference code ("reference"); new items need the encoder that made them, which fmrlrec does not have',
    );
  }
  if (recipe.imageEncoder)
    throw new UserError(`this model's item features have an image part (${recipe.imageEncoder}); adding items with pictures is not supported`);
  if (recipe.templateVersion !== TEMPLATE_VERSION) {
    throw new UserError(
      `the model's features were encoded with item text template version ${recipe.templateVersion}; this fmrlrec writes version ${TEMPLATE_VERSION}`,
    );
  }
  if (recipe.featureDim === 0 && !recipe.attributes) {
    throw new UserError('this model knows items only by their learned ID vectors: an item added without training would have nothing to build its vector from');
  }
}

/** How to load a recipe's text encoder: the encoder's own options and, for Hugging Face models, where they are. */
export type RecipeEncoderOptions = TextEncoderOptions & Pick<HuggingFaceOptions, 'allowDownload' | 'modelsDir'>;

/**
 * A size folder's item_recipe.json.
 * @throws UserError when the folder has none (exported before new items existed: export it again)
 */
export function readItemRecipe(sizeDir: string): ItemRecipe {
  const file = path.join(sizeDir, ITEM_RECIPE_FILE);
  if (!fs.existsSync(file)) {
    throw new UserError(`${sizeDir} has no ${ITEM_RECIPE_FILE}, which new items need (export the run again with this fmrlrec: "fmrlrec export")`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ItemRecipe;
}

/**
 * The builder of an exported size folder: its recipe, its weights, and the
 * recipe's text encoder loaded (the Universal Sentence Encoder's packages are
 * optional: a missing one is named in a one-line UserError).
 */
export async function loadItemVectorBuilder(sizeDir: string, options: RecipeEncoderOptions = {}): Promise<ItemVectorBuilder> {
  const recipe = readItemRecipe(sizeDir);
  checkRecipe(recipe);
  const weights = decodeFloat32Safetensors(fs.readFileSync(path.join(sizeDir, WEIGHTS_FILE)), path.join(sizeDir, WEIGHTS_FILE));
  const encoder = recipe.textEncoder === null ? null : await textEncoderSource(recipe.textEncoder, options).load();
  return new ItemVectorBuilder(recipe, weights, encoder);
}
