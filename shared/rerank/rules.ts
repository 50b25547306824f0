/**
 * Business rules every recommendation obeys, whatever produced the candidates: the item is in stock, the
 * visitor has not bought it, it is not excluded (explicit excludes, just-viewed items), and it appears once.
 * Pure: availability comes in as a predicate so origin (catalogue), nightly and edge (item cards) share it.
 */
export interface RuleInputs {
  /** Ids never to return (explicit excludes, purchases, the current item...). */
  excluded: ReadonlySet<string>;
  /** True when the item may be sold now (in stock, known, not retired). */
  isAvailable: (id: string) => boolean;
}

/** Rules whose availability check may use more of the candidate than its id (a cache by index). */
export interface CandidateRuleInputs<T> extends RuleInputs {
  /** Replaces isAvailable(candidate.id) in applyRules; must answer the same. */
  isAvailableCandidate?: ((candidate: T) => boolean) | undefined;
}

export interface RuleOutcome<T> {
  kept: T[];
  /** How many candidates each rule removed (for metrics and debugging). */
  removed: { excluded: number; unavailable: number; duplicate: number };
}

export function applyRules<T extends { id: string }>(candidates: readonly T[], rules: CandidateRuleInputs<T>): RuleOutcome<T> {
  const available = rules.isAvailableCandidate ?? ((candidate: T) => rules.isAvailable(candidate.id));
  const seen = new Set<string>();
  const kept: T[] = [];
  const removed = { excluded: 0, unavailable: 0, duplicate: 0 };
  for (const candidate of candidates) {
    if (seen.has(candidate.id)) {
      removed.duplicate++;
      continue;
    }
    seen.add(candidate.id);
    if (rules.excluded.has(candidate.id)) removed.excluded++;
    else if (!available(candidate)) removed.unavailable++;
    else kept.push(candidate);
  }
  return { kept, removed };
}

/** True when a final list obeys the rules (used by tests and as a last guard before answering). */
export function violatesRules(ids: readonly string[], rules: RuleInputs, k: number): string | null {
  if (ids.length > k) return `more than k=${k} items`;
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return `duplicate ${id}`;
    seen.add(id);
    if (rules.excluded.has(id)) return `excluded ${id}`;
    if (!rules.isAvailable(id)) return `unavailable ${id}`;
  }
  return null;
}
