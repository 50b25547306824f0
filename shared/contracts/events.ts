/** Event contract: beacons from the widget and API clients. The event id makes every write idempotent. */
import { z } from 'zod';
import { PathIdSchema } from './ids.ts';
import { EVENT_TYPES } from '../catalog/types.ts';

/** 20 running experiments × (64-char experiment id + ':' + 64-char variant id + ','). */
export const MAX_VARIANT_LABEL = 2600;

/** 2000-01-01T00:00:00Z: no event of this system is older; smaller values are seconds or garbage. */
export const MIN_EVENT_TS = 946_684_800_000;
/** How far ahead of the receiver's clock an event may be dated (client clocks drift; a day is generous). */
export const MAX_EVENT_FUTURE_MS = 24 * 3600 * 1000;

const id = PathIdSchema;

export const EventSchema = z
  .object({
    /** Client-generated (e.g. crypto.randomUUID()); a repeated id is stored once. */
    eventId: id,
    type: z.enum(EVENT_TYPES),
    itemId: id,
    userId: id.optional(),
    sessionId: id,
    /**
     * Epoch milliseconds; defaults to the time the server received it. Refused before 2000 (seconds sent as
     * milliseconds, garbage) and more than a day ahead of the receiver's clock (it would sit at the head of
     * every history and outlive the TTLs).
     */
    ts: z
      .number()
      .int()
      .min(MIN_EVENT_TS, 'before 2000-01-01: send epoch milliseconds')
      .refine((ts) => ts <= Date.now() + MAX_EVENT_FUTURE_MS, 'more than 24 hours in the future')
      .optional(),
    surface: z.string().min(1).max(64).regex(/^[\w-]+$/).optional(),
    position: z.number().int().min(0).max(1000).optional(),
    slateVersion: z.string().max(64).nullable().optional(),
    modelVersion: z.string().max(64).optional(),
    /**
     * The response's variant label echoed back ("experiment:variant", comma-joined when several experiments
     * applied); absent → the origin assigns it. Long enough for MAX_VARIANT_LABEL (20 running experiments).
     */
    variant: z.string().max(MAX_VARIANT_LABEL).regex(/^[\w.:,-]*$/, 'a variant label: experiment:variant pairs joined by commas').nullable().optional(),
    /** Revenue of a purchase (or the value of an add-to-cart) in the shop's currency, as in the import format. */
    value: z.number().finite().min(0).max(1e9).optional(),
  })
  .strict();
export type RecoEvent = z.infer<typeof EventSchema>;

export const MAX_EVENTS_PER_BATCH = 500;
export const EventBatchSchema = z.object({ events: z.array(EventSchema).min(1).max(MAX_EVENTS_PER_BATCH) }).strict();
export type EventBatch = z.infer<typeof EventBatchSchema>;

/**
 * What a browser (or a client without an API key) posts: a batch plus, optionally, the user token that proves
 * the events' `userId` (shared/auth/user-token.ts). It rides in the body because the widget posts as
 * text/plain (no CORS preflight, survives page unload); the X-User-Token header works too. Events whose
 * userId is not proven are kept without it (shared/auth/event-users.ts); the token is never stored or queued.
 */
export const EventBeaconSchema = EventBatchSchema.extend({ userToken: z.string().min(1).max(256).optional() }).strict();
export type EventBeacon = z.infer<typeof EventBeaconSchema>;

export const EventBatchResultSchema = z.object({
  accepted: z.number().int(),
  /** Already stored earlier (same event id): not an error, nothing written twice. */
  duplicates: z.number().int(),
  /** Events whose userId was not proven (no valid user token or API key): stored without it, as session events. */
  anonymised: z.number().int().optional(),
  /** Events of users erased through DELETE /v1/users/:id: acknowledged, never stored. */
  erased: z.number().int().optional(),
});
export type EventBatchResult = z.infer<typeof EventBatchResultSchema>;
