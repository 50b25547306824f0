/** JSON error bodies: every refusal names its reason, so clients (and tests) can tell 400s apart. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export interface Problem {
  error: string;
  reasons?: string[];
}

export function problem(c: Context, status: ContentfulStatusCode, error: string, reasons?: string[], headers: Record<string, string> = {}): Response {
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  return c.json(reasons ? { error, reasons } : { error }, status);
}

/** "path: message" for each zod issue, capped so a huge invalid body cannot produce a huge answer. */
export function reasonsOf(error: z.ZodError, max = 20): string[] {
  return error.issues.slice(0, max).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`);
}
