/**
 * One load at a time for a source that many triggers ask to reload (NOTIFY, timers, HTTP writes): a request made
 * while a load runs joins it and causes exactly one more load afterwards, so the last change is always seen and
 * bursts of notifications cost at most two loads. `settled()` waits for whatever load is running.
 */
export interface CoalescedRefresh {
  refresh(): Promise<void>;
  settled(): Promise<void>;
}

export function coalescedRefresh(load: () => Promise<void>): CoalescedRefresh {
  let running: Promise<void> | null = null;
  let again = false;
  const refresh = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await load();
      } while (again);
    })().finally(() => {
      running = null;
    });
    return running;
  };
  return { refresh, settled: async () => void (await running?.catch(() => undefined)) };
}
