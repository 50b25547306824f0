/** The one id rule of every contract: what KV keys, URLs and CSV cells can carry safely. */
import { z } from 'zod';

/** Ids of items, users, sessions and events. */
export const ID_PATTERN = /^[\w.:@-]+$/;
export const IdSchema = z.string().min(1).max(64).regex(ID_PATTERN, 'ids may only contain letters, digits and _ . : @ -');

/** An id that must also be nameable in a URL path: /v1/users/. is /v1/users/, so such a user could never be erased. */
export const PathIdSchema = IdSchema.refine((v) => v !== '.' && v !== '..', 'ids "." and ".." are reserved');
