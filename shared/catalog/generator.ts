/**
 * Built-in catalogue and interaction generator. Deterministic for a seed, so models trained on it, the
 * demo and the tests all see the same shop. The structure is what recommenders exploit in real data:
 * Zipf-like item popularity inside each category, users whose tastes follow their segment plus personal
 * favourites (categories, brands, price level), and sessions that stay on a category or hop to a related one.
 */
import { createRng, cumulativeOf, type Rng } from '../util/rng.ts';
import { ADJECTIVES, CATEGORY_BASE_PRICE, CATEGORY_NAMES, CATEGORY_NOUNS, SEGMENT_NAMES, brandName } from './names.ts';
import type { Dataset, Interaction, Item, User } from './types.ts';

export interface GeneratorOptions {
  seed: number;
  items: number;
  users: number;
  /** Mean sessions per user (activity is long-tailed around it). */
  sessionsPerUser: number;
  /** Mean item views per session. */
  viewsPerSession: number;
  brandsPerCategory: number;
  /** Interactions span this many days before endTime. */
  days: number;
  /** Epoch ms of the last possible event; fixed so runs are reproducible. */
  endTime: number;
}

export const DEMO_GENERATOR_OPTIONS: GeneratorOptions = {
  seed: 42,
  items: 10_000,
  users: 5_000,
  sessionsPerUser: 6,
  viewsPerSession: 6,
  brandsPerCategory: 12,
  days: 60,
  endTime: Date.UTC(2026, 10, 1),
};

const DAY_MS = 86_400_000;

/** The catalogue plus the per-user taste model needed to sample interactions lazily (for 1M-user runs). */
export interface Shop {
  options: GeneratorOptions;
  items: Item[];
  users: User[];
  categories: string[];
  brands: string[];
  /** Item indices per category, and their popularity as cumulative weights. */
  itemsByCategory: number[][];
  popularityByCategory: Float64Array[];
  itemCategory: Int32Array;
  itemBrand: Int32Array;
}

export function generateShop(partial: Partial<GeneratorOptions> = {}): Shop {
  const options = { ...DEMO_GENERATOR_OPTIONS, ...partial };
  const rng = createRng(options.seed);
  const categories = [...CATEGORY_NAMES];
  const brandCount = categories.length * options.brandsPerCategory;
  const brands = Array.from({ length: brandCount }, (_, n) => brandName(n));

  const items: Item[] = [];
  const itemCategory = new Int32Array(options.items);
  const itemBrand = new Int32Array(options.items);
  const itemsByCategory: number[][] = categories.map(() => []);
  // Mild skew across categories: some departments are simply bigger.
  const categoryWeights = cumulativeOf(categories.map((_, c) => 1 / Math.sqrt(c + 2)));
  for (let i = 0; i < options.items; i++) {
    const c = rng.pickCumulative(categoryWeights);
    const b = c * options.brandsPerCategory + Math.floor(Math.pow(rng.next(), 1.6) * options.brandsPerCategory);
    const base = CATEGORY_BASE_PRICE[c] ?? 50;
    const price = Math.max(1, Math.round(base * Math.exp(0.5 * rng.normal()))) - 0.01;
    const ageDays = rng.next() < 0.05 ? rng.next() * 14 : rng.next() * 365;
    const brand = brands[b] ?? 'Generic';
    const adjective = ADJECTIVES[rng.int(ADJECTIVES.length)] ?? '';
    const id = `i${i}`;
    items.push({
      id,
      title: `${brand} ${adjective} ${CATEGORY_NOUNS[c] ?? 'Item'} ${String.fromCharCode(65 + rng.int(26))}${1 + rng.int(99)}`,
      category: categories[c] ?? 'Other',
      brand,
      price,
      stock: rng.next() < 0.08 ? 0 : 1 + rng.int(200),
      image: `/img/${id}.svg`,
      createdAt: Math.round(options.endTime - ageDays * DAY_MS),
    });
    itemCategory[i] = c;
    itemBrand[i] = b;
    itemsByCategory[c]?.push(i);
  }
  // Zipf popularity inside a category over a random rank order.
  const popularityByCategory = itemsByCategory.map((members) => {
    const ranks = members.map((_, r) => r);
    for (let r = ranks.length - 1; r > 0; r--) {
      const s = rng.int(r + 1);
      [ranks[r], ranks[s]] = [ranks[s] ?? 0, ranks[r] ?? 0];
    }
    return cumulativeOf(ranks.map((rank) => 1 / Math.pow(rank + 1, 1.05)));
  });

  const users: User[] = [];
  for (let u = 0; u < options.users; u++) {
    users.push({ id: `u${u}`, segment: SEGMENT_NAMES[rng.int(SEGMENT_NAMES.length)] ?? 'bargain-hunters' });
  }
  return { options, items, users, categories, brands, itemsByCategory, popularityByCategory, itemCategory, itemBrand };
}

/** Each user's hidden tastes, derived from the seed and the user index alone (random access). */
interface Taste {
  rng: Rng;
  categoryCumulative: Float64Array;
  favouriteBrands: Set<number>;
  /** Preferred price relative to the category's base price (log scale). */
  priceLevel: number;
  sessions: number;
}

function tasteOf(shop: Shop, userIndex: number): Taste {
  const { options, categories } = shop;
  const rng = createRng((options.seed * 1_000_003 + userIndex * 7919) >>> 0);
  const segmentIndex = Math.max(0, SEGMENT_NAMES.indexOf((shop.users[userIndex]?.segment ?? '') as (typeof SEGMENT_NAMES)[number]));
  const weights = categories.map((_, c) => 0.15 + 0.3 * rng.next());
  // A segment cares strongly about three neighbouring departments; a user adds two personal favourites.
  for (let k = 0; k < 3; k++) weights[(segmentIndex * 3 + k) % categories.length]! += 2.5;
  for (let k = 0; k < 2; k++) weights[rng.int(categories.length)]! += 1.5 + rng.next();
  const favouriteBrands = new Set<number>();
  for (let k = 0; k < 3; k++) {
    const c = rng.pickCumulative(cumulativeOf(weights));
    favouriteBrands.add(c * options.brandsPerCategory + rng.int(Math.min(4, options.brandsPerCategory)));
  }
  const activity = Math.exp(0.8 * rng.normal() - 0.32);
  return {
    rng,
    categoryCumulative: cumulativeOf(weights),
    favouriteBrands,
    priceLevel: segmentIndex === SEGMENT_NAMES.indexOf('bargain-hunters') ? -0.6 : 0.3 * rng.normal(),
    sessions: Math.max(1, Math.round(options.sessionsPerUser * activity)),
  };
}

/** Picks an item of category c that suits the user: the best of three popularity draws. */
function pickItem(shop: Shop, taste: Taste, c: number, ts: number): number {
  const members = shop.itemsByCategory[c] ?? [];
  const popularity = shop.popularityByCategory[c];
  if (members.length === 0 || !popularity) return -1;
  let best = -1;
  let bestScore = -Infinity;
  for (let k = 0; k < 3; k++) {
    const i = members[taste.rng.pickCumulative(popularity)] ?? -1;
    const item = shop.items[i];
    if (!item || item.createdAt > ts) continue;
    const base = CATEGORY_BASE_PRICE[c] ?? 50;
    const priceFit = -Math.abs(Math.log((item.price + 0.01) / base) - taste.priceLevel);
    const score = (taste.favouriteBrands.has(shop.itemBrand[i] ?? -1) ? 1.5 : 0) + priceFit + 0.7 * taste.rng.next();
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

/** All interactions of one user, in time order. */
export function interactionsOfUser(shop: Shop, userIndex: number): Interaction[] {
  const { options, categories } = shop;
  const taste = tasteOf(shop, userIndex);
  const { rng } = taste;
  const userId = `u${userIndex}`;
  const out: Interaction[] = [];
  const starts = Array.from({ length: taste.sessions }, () => options.endTime - rng.next() * options.days * DAY_MS).sort((a, b) => a - b);
  let seq = 0;
  starts.forEach((start, s) => {
    const sessionId = `s${userIndex}-${s}`;
    const push = (type: Interaction['type'], itemIndex: number, ts: number): void => {
      out.push({ eventId: `e${userIndex}-${seq++}`, userId, sessionId, itemId: `i${itemIndex}`, type, ts: Math.round(ts) });
    };
    let ts = start;
    let c = rng.pickCumulative(taste.categoryCumulative);
    const views = 1 + Math.floor(-Math.log(Math.max(rng.next(), 1e-9)) * (options.viewsPerSession - 1));
    const carted: number[] = [];
    for (let v = 0; v < views && ts < options.endTime; v++) {
      const i = pickItem(shop, taste, c, ts);
      if (i >= 0) {
        if (rng.next() < 0.3) push('click', i, ts - 1000);
        push('view', i, ts);
        const cartRate = taste.favouriteBrands.has(shop.itemBrand[i] ?? -1) ? 0.2 : 0.07;
        if (rng.next() < cartRate && (shop.items[i]?.stock ?? 0) > 0) {
          push('add_to_cart', i, ts + 20_000);
          carted.push(i);
        }
      }
      ts += 30_000 + rng.next() * 240_000;
      // Stay in the department, hop to the related next one, or follow a fresh interest.
      const r = rng.next();
      if (r > 0.6) c = r > 0.8 ? (c + 1) % categories.length : rng.pickCumulative(taste.categoryCumulative);
    }
    for (const i of carted) if (rng.next() < 0.35 && ts < options.endTime) push('purchase', i, ts);
  });
  return out.filter((e) => e.ts <= options.endTime);
}

/** The whole dataset in memory (demo and tests; use interactionsOfUser to stream at benchmark scale). */
export function generateDataset(partial: Partial<GeneratorOptions> = {}): Dataset {
  const shop = generateShop(partial);
  const interactions: Interaction[] = [];
  for (let u = 0; u < shop.users.length; u++) for (const e of interactionsOfUser(shop, u)) interactions.push(e);
  interactions.sort((a, b) => a.ts - b.ts || (a.eventId < b.eventId ? -1 : 1));
  return {
    name: `generated-seed${shop.options.seed}-${shop.options.items}x${shop.options.users}`,
    items: shop.items,
    users: shop.users,
    interactions,
    segments: [...SEGMENT_NAMES],
    categories: shop.categories,
    brands: shop.brands,
  };
}
