/**
 * A synthetic sequential-recommendation dataset with structure a model can learn,
 * for tests, demos and benchmarks without the real data.
 *
 * Generative story:
 * - every catalogue item belongs to one of `numTopics` latent topics and has a
 *   popularity (Zipf-like within its topic); its title, brand, categories and
 *   price come from its topic's vocabulary, so text features carry the topic;
 * - every item has three "usual next purchases" (two in its topic, one in the
 *   topic's related topic);
 * - a user starts in a random topic, then at each step either buys a usual next
 *   purchase of the previous item, or moves along a topic Markov chain (stay,
 *   go to the related topic, or jump anywhere) and buys a popular item of the
 *   topic, or with probability `noise` buys a uniformly random item;
 * - a user never buys the same item twice; lengths are minLen..maxLen, skewed
 *   towards short sequences like the Amazon data.
 * Everything is drawn from one seeded Rng, so the dataset is a function of the options.
 */
import type { Dataset, ItemInfo } from './types';
import { Rng } from '../util/rng';
import { UserError } from '../util/errors';

/** Options of {@link generateSyntheticDataset}. */
export interface SyntheticOptions {
  /** Number of users (default 1000). */
  numUsers?: number;
  /** Catalogue size (default 300); items no user bought are dropped, so N can be smaller. */
  numItems?: number;
  /** Random seed (default 1). */
  seed?: number;
  /** Number of latent topics, 1..12 (default 12). */
  numTopics?: number;
  /** Shortest sequence (default 5; at least 3 for leave-one-out). */
  minLen?: number;
  /** Longest sequence (default 30; at most numItems). */
  maxLen?: number;
  /** Probability that a purchase is a uniformly random item (default 0.1). */
  noise?: number;
  /** Dataset name (default "synthetic"). */
  name?: string;
}

/** Vocabulary of one topic. */
interface Theme {
  categories: [string, string];
  brands: string[];
  nouns: string[];
  adjectives: string[];
  /** Price range in dollars. */
  price: [number, number];
}

const THEMES: Theme[] = [
  {
    categories: ['Beauty', 'Nail Care'],
    brands: ['Lumina', 'Glossa', 'Nailia'],
    nouns: ['nail polish', 'top coat', 'nail lacquer', 'base coat', 'cuticle oil'],
    adjectives: ['glossy', 'quick-dry', 'matte', 'shimmer', 'chip-resistant'],
    price: [4, 15],
  },
  {
    categories: ['Beauty', 'Skin Care'],
    brands: ['Dermaline', 'Puravera', 'Skinova'],
    nouns: ['face cream', 'serum', 'moisturizer', 'eye gel', 'toner'],
    adjectives: ['hydrating', 'anti-aging', 'soothing', 'firming', 'brightening'],
    price: [10, 60],
  },
  {
    categories: ['Beauty', 'Hair Care'],
    brands: ['Tressa', 'Curlique', 'Mane & Co'],
    nouns: ['shampoo', 'conditioner', 'hair mask', 'styling gel', 'hair oil'],
    adjectives: ['volumizing', 'repairing', 'sulfate-free', 'smoothing', 'curl-defining'],
    price: [6, 30],
  },
  {
    categories: ['Beauty', 'Fragrance'],
    brands: ['Aurelle', 'Noir Atelier', 'Bloomhaus'],
    nouns: ['eau de parfum', 'body mist', 'cologne', 'perfume oil', 'scented lotion'],
    adjectives: ['floral', 'woody', 'citrus', 'musky', 'fresh'],
    price: [20, 90],
  },
  {
    categories: ['Sports & Outdoors', 'Camping'],
    brands: ['Trailhead', 'Ridge & Pine', 'Campfire'],
    nouns: ['tent', 'sleeping bag', 'camp stove', 'lantern', 'backpack'],
    adjectives: ['lightweight', 'waterproof', 'compact', 'insulated', 'rugged'],
    price: [15, 250],
  },
  {
    categories: ['Sports & Outdoors', 'Cycling'],
    brands: ['Velo', 'Spokewise', 'Crankset'],
    nouns: ['bike helmet', 'bike light', 'saddle', 'tire pump', 'cycling gloves'],
    adjectives: ['aerodynamic', 'reflective', 'padded', 'rechargeable', 'adjustable'],
    price: [10, 120],
  },
  {
    categories: ['Sports & Outdoors', 'Fishing'],
    brands: ['Reelmaster', 'Lakeline', 'Bassport'],
    nouns: ['fishing rod', 'spinning reel', 'tackle box', 'fishing line', 'lure set'],
    adjectives: ['telescopic', 'braided', 'saltwater', 'ultralight', 'corrosion-resistant'],
    price: [8, 150],
  },
  {
    categories: ['Sports & Outdoors', 'Fitness'],
    brands: ['Ironcore', 'Flexfit', 'Pulse'],
    nouns: ['yoga mat', 'dumbbell set', 'resistance band', 'jump rope', 'foam roller'],
    adjectives: ['non-slip', 'heavy-duty', 'portable', 'high-density', 'cushioned'],
    price: [8, 100],
  },
  {
    categories: ['Toys & Games', 'Board Games'],
    brands: ['Meeple Works', 'Dicecraft', 'Tabletop'],
    nouns: ['board game', 'card game', 'strategy game', 'party game', 'dice game'],
    adjectives: ['cooperative', 'family', 'two-player', 'classic', 'deluxe'],
    price: [10, 70],
  },
  {
    categories: ['Toys & Games', 'Building Toys'],
    brands: ['Brickly', 'Buildit', 'Blocktown'],
    nouns: ['building set', 'construction kit', 'block set', 'robot kit', 'marble run'],
    adjectives: ['creative', 'motorized', 'magnetic', 'starter', 'expansion'],
    price: [12, 120],
  },
  {
    categories: ['Toys & Games', 'Dolls & Plush'],
    brands: ['Cuddlebee', 'Dollhaven', 'Plushpals'],
    nouns: ['plush bear', 'fashion doll', 'doll house', 'stuffed bunny', 'hand puppet'],
    adjectives: ['soft', 'huggable', 'collectible', 'handmade', 'dress-up'],
    price: [8, 80],
  },
  {
    categories: ['Clothing', 'Outerwear'],
    brands: ['Northcoat', 'Urbanwear', 'Denimworks'],
    nouns: ['rain jacket', 'hoodie', 'fleece vest', 'wool sweater', 'parka'],
    adjectives: ['slim-fit', 'breathable', 'warm', 'stretch', 'vintage'],
    price: [20, 200],
  },
];

/** Probabilities of the topic chain and of the item-to-item transitions. */
const STAY_IN_TOPIC = 0.6;
const TO_RELATED_TOPIC = 0.25;
const USUAL_NEXT = 0.5;
const USUAL_NEXT_WEIGHTS = [0.6, 0.3, 0.1];
/** Probability that an item's text borrows an adjective from another topic, or lacks a brand / a price. */
const TEXT_NOISE = 0.1;

/**
 * Generate a synthetic dataset (see the file comment for the model). Items are
 * numbered 1..N by first appearance (as in the P5 data); external ids are
 * ASIN-like ("B0" + 8 characters) and users are "U" + 6 digits.
 * @throws UserError for inconsistent options
 */
export function generateSyntheticDataset(options: SyntheticOptions = {}): Dataset {
  const numUsers = options.numUsers ?? 1000;
  const numItems = options.numItems ?? 300;
  const numTopics = options.numTopics ?? 12;
  const minLen = options.minLen ?? 5;
  const maxLen = options.maxLen ?? 30;
  const noise = options.noise ?? 0.1;
  const name = options.name ?? 'synthetic';
  const rng = new Rng(options.seed ?? 1);
  if (!Number.isInteger(numUsers) || numUsers < 1) throw new UserError(`synthetic data: numUsers must be >= 1, got ${numUsers}`);
  if (!Number.isInteger(numTopics) || numTopics < 1 || numTopics > THEMES.length) {
    throw new UserError(`synthetic data: numTopics must be 1..${THEMES.length}, got ${numTopics}`);
  }
  if (!Number.isInteger(minLen) || !Number.isInteger(maxLen) || minLen < 1 || maxLen < minLen) {
    throw new UserError(`synthetic data: need 1 <= minLen <= maxLen, got ${minLen}..${maxLen}`);
  }
  if (!Number.isInteger(numItems) || numItems < Math.max(numTopics, maxLen)) {
    throw new UserError(`synthetic data: numItems must be >= numTopics and >= maxLen, got ${numItems}`);
  }
  if (!(noise >= 0 && noise <= 1)) throw new UserError(`synthetic data: noise must be in [0, 1], got ${noise}`);

  // Catalogue: topic, popularity order and attributes of each item (0-based here).
  const topicOf = rng.shuffle(Int32Array.from({ length: numItems }, (_, i) => i % numTopics));
  const members: number[][] = Array.from({ length: numTopics }, () => []);
  topicOf.forEach((t, i) => members[t].push(i));
  members.forEach((list) => rng.shuffle(list)); // list order = popularity rank
  const cumulative = members.map((list) => {
    const sums = new Float64Array(list.length);
    let total = 0;
    list.forEach((_, rank) => (sums[rank] = total += 1 / Math.pow(rank + 1, 0.8)));
    return sums;
  });
  const relatedTopic = Int32Array.from({ length: numTopics }, (_, t) => (t + 1 + rng.int(Math.max(1, numTopics - 1))) % numTopics);
  const catalogue = Array.from({ length: numItems }, (_, i) => describeItem(rng, topicOf[i], numTopics));
  const popularIn = (t: number): number => {
    const sums = cumulative[t];
    const x = rng.uniform() * sums[sums.length - 1];
    let lo = 0;
    while (sums[lo] <= x && lo < sums.length - 1) lo++;
    return members[t][lo];
  };
  const usualNext = Array.from({ length: numItems }, (_, i) => {
    const t = topicOf[i];
    return [popularIn(t), popularIn(t), popularIn(relatedTopic[t])];
  });

  // Users.
  const sequences: number[][] = [];
  for (let u = 0; u < numUsers; u++) {
    const length = minLen + Math.floor((maxLen - minLen + 1) * Math.pow(rng.uniform(), 2));
    const bought = new Set<number>();
    const sequence: number[] = [];
    let topic = rng.int(numTopics);
    let previous = -1;
    while (sequence.length < length) {
      let item = -1;
      for (let attempt = 0; attempt < 10 && (item === -1 || bought.has(item)); attempt++) {
        if (rng.uniform() < noise) {
          item = rng.int(numItems);
        } else if (previous !== -1 && rng.uniform() < USUAL_NEXT) {
          item = usualNext[previous][pickWeighted(rng, USUAL_NEXT_WEIGHTS)];
        } else {
          const r = rng.uniform();
          if (r >= STAY_IN_TOPIC) topic = r < STAY_IN_TOPIC + TO_RELATED_TOPIC ? relatedTopic[topic] : rng.int(numTopics);
          item = popularIn(topic);
        }
      }
      while (bought.has(item)) item = (item + 1 + rng.int(numItems - 1)) % numItems;
      bought.add(item);
      sequence.push(item);
      previous = item;
      topic = topicOf[item];
    }
    sequences.push(sequence);
  }

  // Number items 1..N by first appearance.
  const idOf = new Int32Array(numItems).fill(0);
  const itemIds = [''];
  const items: (ItemInfo | null)[] = [null];
  const packed = sequences.map((sequence) =>
    Int32Array.from(sequence, (i) => {
      if (idOf[i] === 0) {
        idOf[i] = itemIds.length;
        const asin = `B0${(i + 1).toString(36).toUpperCase().padStart(8, '0')}`;
        itemIds.push(asin);
        items.push({ asin, ...catalogue[i] });
      }
      return idOf[i];
    }),
  );
  return {
    name,
    numItems: itemIds.length - 1,
    sequences: packed,
    userIds: sequences.map((_, u) => `U${String(u + 1).padStart(6, '0')}`),
    itemIds,
    items,
  };
}

/** Title, brand, categories and price of an item of topic t. */
function describeItem(rng: Rng, t: number, numTopics: number): ItemInfo {
  const theme = THEMES[t];
  const pick = <T>(list: T[]): T => list[rng.int(list.length)];
  const noun = pick(theme.nouns);
  const adjective = pick(rng.uniform() < TEXT_NOISE ? THEMES[rng.int(numTopics)].adjectives : theme.adjectives);
  const brand = pick(theme.brands);
  const variant = rng.uniform() < 0.5 ? `, ${2 + rng.int(5)}-Pack` : ` ${String.fromCharCode(65 + rng.int(26))}${10 + rng.int(90)}`;
  const info: ItemInfo = {
    title: `${brand} ${capitalise(adjective)} ${capitalise(noun)}${variant}`,
    categories: [...theme.categories, capitalise(noun)],
  };
  if (rng.uniform() >= TEXT_NOISE) info.brand = brand;
  if (rng.uniform() >= TEXT_NOISE) {
    const [low, high] = theme.price;
    info.price = Math.round((low + (high - low) * rng.uniform()) * 100) / 100;
  }
  return info;
}

function capitalise(words: string): string {
  return words.replace(/(^|[ -])([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase());
}

function pickWeighted(rng: Rng, weights: number[]): number {
  let x = rng.uniform();
  for (let k = 0; k < weights.length - 1; k++) {
    if (x < weights[k]) return k;
    x -= weights[k];
  }
  return weights.length - 1;
}
