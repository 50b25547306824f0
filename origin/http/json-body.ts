/**
 * Strict JSON body reading: the bytes must be valid UTF-8 (a lenient decoder would store U+FFFD
 * replacement characters), valid JSON, and match the schema. Each failure is a 4xx with a reason, never a 5xx.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { reasonsOf } from './problems.ts';

export type BodyResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 415; error: string; reasons?: string[] };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<BodyResult<z.output<S>>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/(.+\+)?json\b/i.test(type)) return { ok: false, status: 415, error: 'content-type must be application/json' };
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, status: 400, error: 'body is not valid UTF-8' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, status: 400, error: 'body is not valid JSON', reasons: [error instanceof Error ? error.message : String(error)] };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, status: 400, error: 'body does not match the schema', reasons: reasonsOf(parsed.error) };
  return { ok: true, value: parsed.data };
}
