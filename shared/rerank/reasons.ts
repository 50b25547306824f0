/**
 * Human reasons, one per recommended item, chosen by a fixed precedence so they stay explainable:
 *   1. "Because you viewed X" — the visitor's own history/session item most similar to the candidate;
 *   2. "New for you" — the item entered the catalogue recently and is not something they have seen;
 *   3. "Popular in Y" / "Popular with shoppers like you" — popularity (global or the visitor's segment);
 *   4. "Something new to try" — exploration slots (Thompson sampling), said honestly.
 */
export const NEW_ITEM_DAYS = 30;
/** Below this similarity the anchor item does not explain the recommendation. */
export const ANCHOR_MIN_SIMILARITY = 0.35;

export interface ReasonInput {
  /** Title of the most similar item the visitor interacted with, and that similarity. */
  anchorTitle?: string | undefined;
  anchorSimilarity?: number | undefined;
  ageDays: number;
  categoryName: string;
  /** The candidate path that produced the answer. */
  source: 'personal' | 'session' | 'segment' | 'popular';
  explored?: boolean | undefined;
}

export function reasonFor(input: ReasonInput): string {
  if (input.explored) return 'Something new to try';
  if (input.anchorTitle !== undefined && (input.anchorSimilarity ?? 0) >= ANCHOR_MIN_SIMILARITY) {
    return `Because you viewed ${input.anchorTitle}`;
  }
  if (input.ageDays <= NEW_ITEM_DAYS && input.source !== 'popular') return 'New for you';
  if (input.source === 'segment') return `Popular with shoppers like you in ${input.categoryName}`;
  return `Popular in ${input.categoryName}`;
}
