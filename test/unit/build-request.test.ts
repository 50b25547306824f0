/** The one request builder (core/request/build-request.ts): the rules the origin, the live export and the nightly share. */
import { describe, expect, it } from 'vitest';
import { buildPipelineRequest, JUST_SEEN, mergeSessionItems } from '../../core/request/build-request.ts';
import { SESSION_ITEMS_CAP } from '../../core/ports/feature-store.ts';
import { USER_HISTORY_CAP } from '../../shared/features/history.ts';

const shape = { surface: 'home', k: 10, now: 1_700_000_000_000 };
const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('buildPipelineRequest', () => {
  it('keeps the newest USER_HISTORY_CAP history items, oldest first', () => {
    const history = ids('h', USER_HISTORY_CAP + 30);
    const request = buildPipelineRequest({ userId: 'u1', history }, shape);
    expect(request.history).toEqual(history.slice(-USER_HISTORY_CAP));
    expect(buildPipelineRequest({ userId: 'u1', history: ['a', 'b'] }, shape).history).toEqual(['a', 'b']);
  });

  it('merges stored and request session items, newest position wins, capped at SESSION_ITEMS_CAP', () => {
    expect(mergeSessionItems(['a', 'b', 'c'], ['b', 'd'], 10)).toEqual(['a', 'c', 'b', 'd']);
    const request = buildPipelineRequest({ storedSessionItems: ids('s', SESSION_ITEMS_CAP), requestSessionItems: ['new1', 's0'] }, shape);
    expect(request.sessionItems).toHaveLength(SESSION_ITEMS_CAP);
    expect(request.sessionItems.slice(-2)).toEqual(['new1', 's0']);
    expect(request.sessionItems).not.toContain('s1');
  });

  it('never recommends explicit excludes, purchases or the newest JUST_SEEN session items, each once', () => {
    const session = ids('s', JUST_SEEN + 5);
    const request = buildPipelineRequest({ excludeIds: ['x', 'p1'], purchased: ['p1', 'p2'], storedSessionItems: session }, shape);
    expect(request.excludeIds).toEqual(['x', 'p1', 'p2', ...session.slice(-JUST_SEEN)]);
    expect(request.excludeIds).not.toContain('s0');
  });

  it('passes identity, shape and knobs through; nightly-style requests have no session', () => {
    const request = buildPipelineRequest({ userId: 'u9', segment: 'gamers', history: ['a'], purchased: ['b'] }, { ...shape, k: 100, explorationSlots: 0, settings: { modelVersion: 'm1' } });
    expect(request).toEqual({
      userId: 'u9',
      sessionId: undefined,
      segment: 'gamers',
      surface: 'home',
      k: 100,
      history: ['a'],
      sessionItems: [],
      excludeIds: ['b'],
      now: shape.now,
      explorationSlots: 0,
      settings: { modelVersion: 'm1' },
    });
  });
});
