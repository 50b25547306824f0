/**
 * Per-isolate counters of serve paths and degradations, exposed at GET /v1/stats and logged as one JSON
 * line per request (Workers Logs / Logpush aggregate them across isolates in production).
 */
const counts = new Map<string, number>();

export function count(name: string, by = 1): void {
  counts.set(name, (counts.get(name) ?? 0) + by);
}

export function snapshot(): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
