/**
 * The UserSource port: where the nightly job gets the users it precomputes slates for, and how it learns,
 * at write time, which of them were erased meanwhile. Adapters: the origin's stores (Postgres users/events,
 * histories from the feature store when it has them: adapters/postgres/user-source.ts) and the built-in
 * generator for the demo (batch/nightly/inputs.ts). Every user comes out under the one history rule and cap
 * (shared/features/history.ts, core/users/fold-history.ts), oldest → newest, ready for build-request.ts.
 */
export interface NightlyUser {
  id: string;
  segment: string;
  /** Positive interactions, oldest → newest, at most USER_HISTORY_CAP. */
  history: string[];
  /** Items bought (never recommended back). */
  purchased: string[];
}

export interface UserSource {
  /** 'store' (Postgres / feature store) or 'generator' (demo); printed in the nightly's summary. */
  readonly kind: 'store' | 'generator';
  /** Every active user (at least one positive interaction, not erased), in id order. */
  activeUsers(): Promise<NightlyUser[]>;
  /**
   * Which of `ids` are erased now. Called before and after each batch of slate writes; rejects when the
   * erasure list cannot be read (the job then stops rather than risk writing an erased user's slate).
   */
  erasedAmong(ids: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
