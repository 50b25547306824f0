/**
 * The import format: one row per item, event or user, as NDJSON (one JSON object per line) or CSV (header
 * row, same field names). `npm run import`, the catalogue API (PUT /v1/items) and the data-set converters
 * (MovieLens-100K, MovieLens-1M pairs) all speak it; docs/import-format.md is its human description.
 * Pure zod: no I/O, so every reader (streaming CSV, NDJSON, HTTP) validates rows with the same rules.
 */
import { z } from 'zod';
import { EVENT_TYPES, type Item, type User } from '../catalog/types.ts';
import { IdSchema, PathIdSchema } from './ids.ts';


/** Earliest time an imported row may carry (MovieLens-100K starts in 1997); later than now + 1 day is refused. */
export const IMPORT_EARLIEST_TS = Date.UTC(1990, 0, 1);
export const IMPORT_FUTURE_SLACK_MS = 86_400_000;

/** Epoch milliseconds, or an ISO-8601 string (CSV cells arrive as strings: digits are read as epoch ms). */
export const TimestampSchema = z
  .union([z.number(), z.string().min(1).max(40)])
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'not a timestamp (epoch ms or ISO-8601)' });
      return z.NEVER;
    }
    if (ms < IMPORT_EARLIEST_TS || ms > Date.now() + IMPORT_FUTURE_SLACK_MS) {
      ctx.addIssue({ code: 'custom', message: 'timestamp out of range (1990-01-01 … now + 1 day)' });
      return z.NEVER;
    }
    return Math.trunc(ms);
  });

/** CSV gives every cell as a string; these accept the JSON type or its text form. Empty CSV cells mean "absent". */
const emptyAsUndefined = (value: unknown): unknown => (value === '' || value === null ? undefined : value);
const toNumber = (v: unknown): unknown => (typeof v === 'string' && v.trim() !== '' ? Number(v) : emptyAsUndefined(v));
const optionalNumber = (min: number, max: number) => z.preprocess(toNumber, z.number().finite().min(min).max(max).optional());
const optionalInt = (min: number, max: number) => z.preprocess(toNumber, z.number().int().min(min).max(max).optional());
const optionalText = (max: number) => z.preprocess(emptyAsUndefined, z.string().trim().min(1).max(max).optional());
/** Tags: a JSON array, or one CSV cell with `|` between tags. */
const tagsLike = z.preprocess(
  (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.split('|').map((t) => t.trim()).filter(Boolean)) : emptyAsUndefined(v)),
  z.array(z.string().min(1).max(64)).max(32).optional(),
);

export const MAX_ITEMS_PER_UPSERT = 1000;

/** A catalogue row. Only id and title are required; what is absent is "unknown" to the models, not an error. */
export const ItemRowSchema = z
  .object({
    /** Named in DELETE /v1/items/:id, so "." and ".." are refused (PathIdSchema). */
    id: PathIdSchema,
    title: z.string().trim().min(1).max(200),
    category: optionalText(64),
    brand: optionalText(64),
    price: optionalNumber(0, 1e9),
    /** Units in stock; 0 retires the item from recommendations (it stays in histories). Default: 1 (available). */
    stock: optionalInt(0, 1e9),
    /** http(s) URL or a site-relative path. */
    image: z.preprocess(emptyAsUndefined, z.string().max(500).regex(/^(https?:\/\/|\/)/, 'image must be an http(s) URL or a path starting with /').optional()),
    /** When the item entered the catalogue (default: when it was first imported). */
    createdAt: z.preprocess(emptyAsUndefined, TimestampSchema.optional()),
    tags: tagsLike,
  })
  .strict();
export type ItemRow = z.infer<typeof ItemRowSchema>;

/** An interaction row. Without an eventId, one is derived from (userId, itemId, type, ts), so re-imports never duplicate. */
export const EventRowSchema = z
  .object({
    eventId: z.preprocess(emptyAsUndefined, IdSchema.optional()),
    userId: PathIdSchema,
    itemId: PathIdSchema,
    type: z.enum(EVENT_TYPES),
    ts: TimestampSchema,
    /** Default: derived from the user and a 30-minute inactivity gap. */
    sessionId: z.preprocess(emptyAsUndefined, IdSchema.optional()),
    /** Revenue of a purchase (or add-to-cart value), in the shop's currency. */
    value: optionalNumber(0, 1e9),
  })
  .strict();
export type EventRow = z.infer<typeof EventRowSchema>;

/** A user row (optional file): the segment the models and segment slates use. */
export const UserRowSchema = z
  .object({
    /** Named in DELETE /v1/users/:id (erasure), so "." and ".." are refused. */
    id: PathIdSchema,
    segment: optionalText(64),
  })
  .strict();
export type UserRow = z.infer<typeof UserRowSchema>;

/** Defaults of what an item row leaves out, as stored (docs/import-format.md). */
export const ITEM_DEFAULTS = { category: 'Unknown', brand: 'Unknown', price: 0, stock: 1 } as const;

/** An item row as the catalogue stores it: absent fields get ITEM_DEFAULTS, the image a placeholder, createdAt `now`. */
export function itemFromRow(row: ItemRow, now: number): Item {
  return {
    id: row.id,
    title: row.title,
    category: row.category ?? ITEM_DEFAULTS.category,
    brand: row.brand ?? ITEM_DEFAULTS.brand,
    price: row.price ?? ITEM_DEFAULTS.price,
    stock: row.stock ?? ITEM_DEFAULTS.stock,
    image: row.image ?? `/img/${row.id}.svg`,
    createdAt: row.createdAt ?? now,
  };
}

export function userFromRow(row: UserRow): User {
  return { id: row.id, segment: row.segment ?? 'unknown' };
}
