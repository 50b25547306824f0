/**
 * Chooses and opens the KV adapter from CLI/env settings: `local` (Miniflare over wrangler's persistence,
 * namespace id read from edge/wrangler.jsonc) or `cloudflare` (REST API, credentials from env).
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type { KvWriter } from '../../shared/kv/writer.ts';

export const KV_BINDING = 'SLATES';

/**
 * The namespace id wrangler dev uses for local persistence of the SLATES binding: the binding's `id` in
 * wrangler.jsonc, or the binding name itself when no id is configured (wrangler's own fallback).
 */
export function localNamespaceId(wranglerConfigPath: string): string {
  if (!existsSync(wranglerConfigPath)) return KV_BINDING;
  // JSONC: drop // and /* */ comments (outside strings) and trailing commas before parsing.
  const text = readFileSync(wranglerConfigPath, 'utf8')
    .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (_m, str: string | undefined) => str ?? '')
    .replace(/,(\s*[}\]])/g, '$1');
  const config = z
    .object({ kv_namespaces: z.array(z.object({ binding: z.string(), id: z.string().optional() })).optional() })
    .parse(JSON.parse(text));
  return config.kv_namespaces?.find((ns) => ns.binding === KV_BINDING)?.id ?? KV_BINDING;
}

export const KvSettingsSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local'), persistTo: z.string(), namespaceId: z.string() }),
  z.object({
    kind: z.literal('cloudflare'),
    accountId: z.string().min(1),
    namespaceId: z.string().min(1),
    apiToken: z.string().min(1),
    baseUrl: z.string().url().optional(),
  }),
]);
export type KvSettings = z.infer<typeof KvSettingsSchema>;

/** Settings from CLI flags falling back to env (CF_ACCOUNT_ID, CF_KV_NAMESPACE_ID, CF_API_TOKEN, KV_PERSIST_DIR). */
export function kvSettingsFrom(flags: { kv?: string; persistTo?: string; namespaceId?: string }, env: NodeJS.ProcessEnv, root: string): KvSettings {
  const kind = flags.kv ?? env.KV_BACKEND ?? 'local';
  if (kind === 'cloudflare') {
    return KvSettingsSchema.parse({
      kind,
      accountId: env.CF_ACCOUNT_ID,
      namespaceId: flags.namespaceId ?? env.CF_KV_NAMESPACE_ID,
      apiToken: env.CF_API_TOKEN,
      baseUrl: env.CF_API_BASE_URL,
    });
  }
  return KvSettingsSchema.parse({
    kind,
    persistTo: flags.persistTo ?? env.KV_PERSIST_DIR ?? `${root}/.wrangler/state`,
    namespaceId: flags.namespaceId ?? env.KV_NAMESPACE_ID ?? localNamespaceId(`${root}/edge/wrangler.jsonc`),
  });
}

/**
 * Each adapter is imported when opened, not with this module: the origin imports this file in every process and
 * worker, and Miniflare (with workerd) or the Cloudflare SDK is only needed by one that writes slates.
 */
export async function openKv(settings: KvSettings): Promise<KvWriter> {
  if (settings.kind === 'local') {
    const { openLocalKv } = await import('./local.ts');
    return openLocalKv({ persistTo: settings.persistTo, namespaceId: settings.namespaceId });
  }
  const { openCloudflareKv } = await import('./cloudflare.ts');
  return openCloudflareKv(settings);
}
