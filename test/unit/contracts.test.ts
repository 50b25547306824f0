import { describe, expect, it } from 'vitest';
import { EdgeRecommendQuerySchema, RecommendRequestSchema } from '../../shared/contracts/recommend.ts';
import { EventBatchSchema } from '../../shared/contracts/events.ts';
import { decodeSlate, encodeSlate, SlateSchema } from '../../shared/contracts/slate.ts';
import { newSlateVersion, slateKey } from '../../shared/kv/keys.ts';

describe('recommend contract', () => {
  it('fills defaults and requires a user or a session', () => {
    const ok = RecommendRequestSchema.parse({ userId: 'u1' });
    expect(ok).toMatchObject({ userId: 'u1', k: 10, surface: 'home', sessionItemIds: [], excludeIds: [] });
    const missing = RecommendRequestSchema.safeParse({ k: 5 });
    expect(missing.success).toBe(false);
    expect(JSON.stringify(missing.error?.issues)).toContain('userId or sessionId is required');
  });

  it('rejects oversized k, unknown fields and unsafe ids with a reason', () => {
    for (const bad of [{ userId: 'u1', k: 1000 }, { userId: 'u1', extra: 1 }, { userId: "u1'; drop table" }, { userId: 5 }]) {
      const result = RecommendRequestSchema.safeParse(bad);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message.length).toBeGreaterThan(0);
    }
  });

  it('parses the edge query string form', () => {
    const q = EdgeRecommendQuerySchema.parse({ session: 's1', k: '4', recent: 'i1,i2' });
    expect(q).toMatchObject({ session: 's1', k: 4, recent: ['i1', 'i2'], surface: 'home' });
    expect(EdgeRecommendQuerySchema.safeParse({ session: 's1', recent: 'i1,,i2' }).success).toBe(false);
  });
});

describe('event contract', () => {
  it('accepts a batch and refuses empty or malformed ones', () => {
    const event = { eventId: 'e1', type: 'click', itemId: 'i1', sessionId: 's1', ts: 1_700_000_000_000 };
    expect(EventBatchSchema.parse({ events: [event] }).events).toHaveLength(1);
    expect(EventBatchSchema.safeParse({ events: [] }).success).toBe(false);
    expect(EventBatchSchema.safeParse({ events: [{ ...event, type: 'hover' }] }).success).toBe(false);
    expect(EventBatchSchema.safeParse({ events: [{ ...event, eventId: '' }] }).success).toBe(false);
  });
});

describe('slate value', () => {
  it('round-trips through the compact encoding and shares reason strings', () => {
    const entries = [
      { id: 'i1', score: 0.123456, category: 3, brand: 7, priceBucket: 2, reason: 'Popular in Laptops' },
      { id: 'i2', score: 0.1, category: 3, brand: 8, priceBucket: 4, reason: 'Popular in Laptops' },
      { id: 'i3', score: 0.05, category: 5, brand: 1, priceBucket: 1, reason: 'New for you' },
    ];
    const slate = encodeSlate({ slateVersion: 'v1', modelVersion: 'm1', at: 1 }, entries);
    expect(slate.rt).toEqual(['Popular in Laptops', 'New for you']);
    const parsed = SlateSchema.parse(JSON.parse(JSON.stringify(slate)));
    expect(decodeSlate(parsed)).toEqual([{ ...entries[0], score: 0.1235 }, entries[1], entries[2]]);
  });

  it('refuses a slate whose columns disagree in length', () => {
    const slate = encodeSlate({ slateVersion: 'v1', modelVersion: 'm1', at: 1 }, []);
    expect(SlateSchema.safeParse({ ...slate, i: ['i1'] }).success).toBe(false);
  });

  it('keys slates under their version', () => {
    const v = newSlateVersion(new Date(Date.UTC(2026, 10, 24, 2, 0, 0)));
    expect(v).toBe('v20261124T020000Z');
    expect(slateKey(v, { kind: 'user', id: 'u1' })).toBe('slate:v20261124T020000Z:user:u1');
    expect(slateKey(v, { kind: 'segment', name: 'gamers' })).toBe('slate:v20261124T020000Z:seg:gamers');
    expect(slateKey(v, { kind: 'popular' })).toBe('slate:v20261124T020000Z:popular');
  });
});
