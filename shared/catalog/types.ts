import { z } from 'zod';

/** The event kinds a shop produces, in funnel order. `impression` is emitted by the widget only. */
export const EVENT_TYPES = ['impression', 'view', 'click', 'add_to_cart', 'purchase'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const ItemSchema = z.object({
  id: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  category: z.string().min(1).max(64),
  brand: z.string().min(1).max(64),
  /** Price in the shop's currency (two decimals). */
  price: z.number().nonnegative(),
  stock: z.number().int().nonnegative(),
  /** Image URL; the generator uses an inline SVG placeholder path served by the edge. */
  image: z.string().max(500),
  /** Epoch milliseconds when the item entered the catalogue ("new for you"). */
  createdAt: z.number().int().nonnegative(),
});
export type Item = z.infer<typeof ItemSchema>;

export const UserSchema = z.object({
  id: z.string().min(1).max(64),
  segment: z.string().min(1).max(64),
});
export type User = z.infer<typeof UserSchema>;

/** One recorded interaction, as the trainer and the stores see it. */
export interface Interaction {
  eventId: string;
  userId: string;
  sessionId: string;
  itemId: string;
  type: EventType;
  /** Epoch milliseconds. */
  ts: number;
}

/** A whole dataset, whatever its source (built-in generator or MovieLens-1M). */
export interface Dataset {
  name: string;
  items: Item[];
  users: User[];
  /** Sorted by ts ascending. */
  interactions: Interaction[];
  segments: string[];
  categories: string[];
  brands: string[];
}
