/**
 * Evaluating a model version on a holdout prepared with ANOTHER feature space (the cycle's gate: the live
 * model on the holdout of today's events). Eval users carry item indices of the space the data was prepared
 * with; this maps them, by item id, into the version's own space. Items the version does not know keep
 * distinct negative indices, so they still count in the denominator and can never be hit (a miss for it).
 */
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import type { EvalUser } from '../prepare/prepare.ts';

export function remapEvalUsers(users: readonly EvalUser[], from: FeatureSpace, to: FeatureSpace): EvalUser[] {
  let unknown = 0;
  const map = (index: number): number => {
    const id = from.itemId(index);
    const mapped = id === undefined ? 0 : to.itemIndex(id);
    return mapped > 0 ? mapped : -++unknown;
  };
  return users.map((user) => ({
    ...user,
    truth: user.truth.map(map),
    seen: new Set([...user.seen].map(map).filter((i) => i > 0)),
    sessionTasks: user.sessionTasks.map((task) => ({ ...task, next: map(task.next) })),
  }));
}
