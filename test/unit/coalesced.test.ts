/** coalescedRefresh: requests during a load join it and cause exactly one more load; none is lost. */
import { describe, expect, it } from 'vitest';
import { coalescedRefresh } from '../../shared/util/coalesced.ts';

describe('coalescedRefresh', () => {
  it('runs one load at a time and one more for every burst of requests made during a load', async () => {
    let loads = 0;
    let release: () => void = () => undefined;
    const source = coalescedRefresh(async () => {
      loads++;
      await new Promise<void>((resolve) => (release = resolve));
    });
    const first = source.refresh();
    const joined = [source.refresh(), source.refresh(), source.refresh()];
    expect(loads).toBe(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(loads).toBe(2); // the burst became one more load, started after the first
    release();
    await Promise.all([first, ...joined]);
    expect(loads).toBe(2);
    const later = source.refresh();
    expect(loads).toBe(3); // a request after the loads settled starts a new one
    release();
    await later;
    await source.settled();
  });

  it('settles even when a load fails, and loads again on the next request', async () => {
    let loads = 0;
    const source = coalescedRefresh(async () => {
      loads++;
      if (loads === 1) throw new Error('database down');
    });
    await expect(source.refresh()).rejects.toThrow('database down');
    await source.settled();
    await source.refresh();
    expect(loads).toBe(2);
  });
});
