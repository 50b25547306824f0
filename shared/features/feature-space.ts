/**
 * The feature space of one model version: vocabularies and per-item static features. Built once from the
 * training window by the trainer's preparation step, written next to the models, and loaded by origin,
 * nightly and edge. Plain arrays so it serialises to JSON unchanged.
 */
import { z } from 'zod';
import { priceBucket } from './spec.ts';
import type { Interaction, Item } from '../catalog/types.ts';

export const FeatureSpaceSchema = z.object({
  /** Item ids; the item's index is its position + 1 (0 = padding/unknown). */
  items: z.array(z.string()),
  categories: z.array(z.string()),
  brands: z.array(z.string()),
  segments: z.array(z.string()),
  /** Per item (same order as items): category index, brand index, price bucket (all 1-based / 0 = unknown). */
  itemCategory: z.array(z.number().int()),
  itemBrand: z.array(z.number().int()),
  itemPriceBucket: z.array(z.number().int()),
  /** Positive interactions per item in the training window. */
  itemPopularity: z.array(z.number().nonnegative()),
  /** Epoch ms the item entered the catalogue. */
  itemCreatedAt: z.array(z.number()),
  /** End of the training window: "now" for age features at training time. */
  referenceTime: z.number(),
});
export type FeatureSpaceData = z.infer<typeof FeatureSpaceSchema>;

/** Fast lookups over FeatureSpaceData. */
export class FeatureSpace {
  readonly data: FeatureSpaceData;
  private readonly itemIndexById: Map<string, number>;
  private readonly segmentIndexByName: Map<string, number>;

  constructor(data: FeatureSpaceData) {
    this.data = data;
    this.itemIndexById = new Map(data.items.map((id, i) => [id, i + 1]));
    this.segmentIndexByName = new Map(data.segments.map((name, i) => [name, i + 1]));
  }

  get itemCount(): number {
    return this.data.items.length;
  }
  /** 1-based item index, 0 when unknown. */
  itemIndex(id: string): number {
    return this.itemIndexById.get(id) ?? 0;
  }
  itemId(index: number): string | undefined {
    return this.data.items[index - 1];
  }
  segmentIndex(name: string | undefined): number {
    return name === undefined ? 0 : (this.segmentIndexByName.get(name) ?? 0);
  }
  category(index: number): number {
    return this.data.itemCategory[index - 1] ?? 0;
  }
  brand(index: number): number {
    return this.data.itemBrand[index - 1] ?? 0;
  }
  priceBucket(index: number): number {
    return this.data.itemPriceBucket[index - 1] ?? 0;
  }
  popularity(index: number): number {
    return this.data.itemPopularity[index - 1] ?? 0;
  }
  createdAt(index: number): number {
    return this.data.itemCreatedAt[index - 1] ?? this.data.referenceTime;
  }
}

/** Builds the feature space from the catalogue and the training-window interactions. */
export function buildFeatureSpace(
  items: readonly Item[],
  segments: readonly string[],
  trainInteractions: readonly Interaction[],
  referenceTime: number,
): FeatureSpaceData {
  const categories = [...new Set(items.map((item) => item.category))].sort();
  const brands = [...new Set(items.map((item) => item.brand))].sort();
  const categoryIndex = new Map(categories.map((name, i) => [name, i + 1]));
  const brandIndex = new Map(brands.map((name, i) => [name, i + 1]));
  const position = new Map(items.map((item, i) => [item.id, i]));
  const popularity = new Array<number>(items.length).fill(0);
  for (const event of trainInteractions) {
    if (event.type === 'impression') continue;
    const i = position.get(event.itemId);
    if (i !== undefined) popularity[i] = (popularity[i] ?? 0) + 1;
  }
  return {
    items: items.map((item) => item.id),
    categories,
    brands,
    segments: [...segments],
    itemCategory: items.map((item) => categoryIndex.get(item.category) ?? 0),
    itemBrand: items.map((item) => brandIndex.get(item.brand) ?? 0),
    itemPriceBucket: items.map((item) => priceBucket(item.price)),
    itemPopularity: popularity,
    itemCreatedAt: items.map((item) => item.createdAt),
    referenceTime,
  };
}
