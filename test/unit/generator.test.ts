import { describe, expect, it } from 'vitest';
import { generateDataset, generateShop, interactionsOfUser } from '../../shared/catalog/generator.ts';

describe('built-in catalogue generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateDataset({ items: 500, users: 100 });
    const b = generateDataset({ items: 500, users: 100 });
    const c = generateDataset({ items: 500, users: 100, seed: 7 });
    expect(a.interactions).toEqual(b.interactions);
    expect(a.items).toEqual(b.items);
    expect(c.interactions).not.toEqual(a.interactions);
  });

  it('produces a shop-like catalogue and a funnel of events in time order', () => {
    const d = generateDataset({ items: 2000, users: 300 });
    expect(d.items).toHaveLength(2000);
    expect(d.users).toHaveLength(300);
    const types = new Map<string, number>();
    for (const e of d.interactions) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    expect(types.get('view')).toBeGreaterThan(types.get('add_to_cart') ?? 0);
    expect(types.get('add_to_cart')).toBeGreaterThan(types.get('purchase') ?? 0);
    expect(types.get('purchase')).toBeGreaterThan(0);
    for (let k = 1; k < d.interactions.length; k++) expect(d.interactions[k]!.ts).toBeGreaterThanOrEqual(d.interactions[k - 1]!.ts);
    expect(new Set(d.interactions.map((e) => e.eventId)).size).toBe(d.interactions.length);
    expect(d.items.some((item) => item.stock === 0)).toBe(true);
  });

  it('has Zipf-like popularity: the top 10% of items take a large share of views', () => {
    const d = generateDataset({ items: 2000, users: 1000 });
    const views = new Map<string, number>();
    for (const e of d.interactions) if (e.type === 'view') views.set(e.itemId, (views.get(e.itemId) ?? 0) + 1);
    const sorted = [...views.values()].sort((x, y) => y - x);
    const total = sorted.reduce((s, v) => s + v, 0);
    const top = sorted.slice(0, 200).reduce((s, v) => s + v, 0);
    expect(top / total).toBeGreaterThan(0.4);
  });

  it('streams one user at a time with the same result as the whole dataset', () => {
    const shop = generateShop({ items: 500, users: 50 });
    const whole = generateDataset({ items: 500, users: 50 });
    const streamed = interactionsOfUser(shop, 7);
    expect(streamed.length).toBeGreaterThan(0);
    expect(whole.interactions.filter((e) => e.userId === 'u7')).toEqual(streamed);
  });
});
