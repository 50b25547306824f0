/**
 * `npm run experiment -- <command> …`: the operator's CLI for experiments, a thin client of the origin's
 * /v1/experiments API (so it works the same against the embedded PGlite origin and a fleet on Postgres).
 *   list                                   every experiment and its status
 *   show ID                                definition and log
 *   create --file DEF.json | --json '{…}'  a definition as docs/experiments.md describes it
 *   create ID --variants control:50,b:50 [--set b.mmrLambda=0.5] [--model b=VERSION] [--shadow-model V]
 *          [--shadow-rate 0.1] [--primary ctr|addToCartRate|conversion|revenuePerVisitor] [--surface S]
 *   canary ID --model VERSION [--share 0.05] [--min-visitors N] [--max-hours H] [--manual]
 *   pause|resume|stop ID [--reason TEXT]
 *   report ID [--html FILE] [--json]       results (text; HTML report with plots; JSON)
 *   evaluate ID [--apply]                  the canary rule now (dry run unless --apply)
 * Common: --paused (create it paused), --url (ORIGIN_URL, default http://127.0.0.1:3000), --key (API_KEY,
 * else the first of API_KEYS). Exit code 1 when the origin refuses (its reasons are printed), 2 on bad usage.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' }, key: { type: 'string' }, file: { type: 'string' }, json: { type: 'boolean' }, html: { type: 'string' },
    variants: { type: 'string' }, set: { type: 'string', multiple: true }, model: { type: 'string', multiple: true },
    'shadow-model': { type: 'string' }, 'shadow-rate': { type: 'string' }, primary: { type: 'string' }, surface: { type: 'string', multiple: true },
    share: { type: 'string' }, 'min-visitors': { type: 'string' }, 'max-hours': { type: 'string' }, manual: { type: 'boolean' },
    paused: { type: 'boolean' }, reason: { type: 'string' }, apply: { type: 'boolean' }, description: { type: 'string' },
  },
});
// `create --json '{…}'`: the JSON is the positional after the command.
const [command, id, extra] = positionals;
const base = (values.url ?? process.env.ORIGIN_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const key = values.key ?? process.env.API_KEY ?? process.env.API_KEYS?.split(',')[0]?.trim();

class UsageError extends Error {}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({ error: response.statusText }))) as { error?: string; reasons?: string[] };
    process.stderr.write(`[experiment] ${response.status} ${problem.error ?? ''}\n${(problem.reasons ?? []).map((r) => `  - ${r}\n`).join('')}`);
    process.exit(1);
  }
  return response;
}

const number = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new UsageError(`--${name}: not a number: ${text}`);
  return n;
};

/** `--set b.mmrLambda=0.5` → settings of variant b (numbers parsed; the API validates names and ranges). */
function definitionFromFlags(experimentId: string): Record<string, unknown> {
  if (!values.variants) throw new UsageError('create needs --file, --json or --variants id:weight,…');
  const variants = values.variants.split(',').map((part) => {
    const [variantId = '', weight = '1'] = part.split(':');
    return { id: variantId.trim(), weight: number('variants', weight) ?? 1, settings: {} as Record<string, unknown> };
  });
  const variantOf = (name: string): { settings: Record<string, unknown> } => {
    const v = variants.find((x) => x.id === name);
    if (!v) throw new UsageError(`no variant ${name} in --variants`);
    return v;
  };
  for (const setting of values.set ?? []) {
    const match = /^([\w.-]+?)\.(\w+)=(.*)$/.exec(setting);
    if (!match) throw new UsageError(`--set expects variant.setting=value, got ${setting}`);
    const [, variantId = '', name = '', raw = ''] = match;
    variantOf(variantId).settings[name] = Number.isFinite(Number(raw)) && raw.trim() !== '' ? Number(raw) : raw;
  }
  for (const pin of values.model ?? []) {
    const [variantId = '', version = ''] = pin.split('=');
    variantOf(variantId).settings.modelVersion = version;
  }
  return {
    id: experimentId,
    ...(values.description ? { description: values.description } : {}),
    variants,
    ...(values.surface ? { surfaces: values.surface } : {}),
    ...(values.primary ? { primaryMetric: values.primary } : {}),
    ...(values['shadow-model'] ? { shadow: { settings: { modelVersion: values['shadow-model'] }, sampleRate: number('shadow-rate', values['shadow-rate']) ?? 1 } } : {}),
  };
}

async function main(): Promise<void> {
  const needId = (): string => {
    if (!id) throw new UsageError(`${command} needs an experiment id`);
    return encodeURIComponent(id);
  };
  switch (command) {
    case 'list': {
      const { experiments } = (await (await call('GET', '/v1/experiments')).json()) as { experiments: { id: string; status: string; startedAt: number | null; definition: { variants: { id: string; weight: number }[]; canary?: unknown } | null }[] };
      for (const e of experiments) process.stdout.write(`${e.id.padEnd(24)} ${e.status.padEnd(8)} ${e.definition?.canary ? 'canary ' : 'ab     '} ${e.definition?.variants.map((v) => `${v.id}:${v.weight}`).join(',') ?? 'invalid definition'}  since ${e.startedAt ? new Date(e.startedAt).toISOString() : '–'}\n`);
      if (experiments.length === 0) process.stdout.write('no experiments\n');
      return;
    }
    case 'show':
      process.stdout.write(`${JSON.stringify(await (await call('GET', `/v1/experiments/${needId()}`)).json(), null, 2)}\n`);
      return;
    case 'create': {
      let definition: Record<string, unknown>;
      if (values.file) definition = JSON.parse(await (await import('node:fs/promises')).readFile(values.file, 'utf8')) as Record<string, unknown>;
      else if (values.json) definition = JSON.parse(id ?? extra ?? '') as Record<string, unknown>;
      else definition = definitionFromFlags(id ?? '');
      const { experiment } = (await (await call('POST', '/v1/experiments', { ...definition, ...(values.paused ? { status: 'paused' } : {}) })).json()) as { experiment: { id: string; status: string } };
      process.stdout.write(`created ${experiment.id} (${experiment.status})\n`);
      return;
    }
    case 'canary': {
      const version = values.model?.[0];
      if (!id || !version) throw new UsageError('canary needs an id and --model VERSION');
      const share = number('share', values.share) ?? 0.05;
      if (!(share > 0 && share < 1)) throw new UsageError('--share must be between 0 and 1');
      const canary = { ...(values['min-visitors'] ? { minVisitors: number('min-visitors', values['min-visitors']) } : {}), ...(values['max-hours'] ? { maxHours: number('max-hours', values['max-hours']) } : {}), autoApply: !values.manual };
      const body = { id, description: values.description ?? `canary of model ${version}`, variants: [{ id: 'control', weight: 1 - share }, { id: 'canary', weight: share, settings: { modelVersion: version } }], ...(values.primary ? { primaryMetric: values.primary } : {}), canary, ...(values.paused ? { status: 'paused' } : {}) };
      const { experiment } = (await (await call('POST', '/v1/experiments', body)).json()) as { experiment: { id: string; status: string } };
      process.stdout.write(`created canary ${experiment.id} (${experiment.status}): ${version} on ${(share * 100).toFixed(1)} % of visitors\n`);
      return;
    }
    case 'pause':
    case 'resume':
    case 'stop': {
      const { experiment } = (await (await call('POST', `/v1/experiments/${needId()}/${command}`, values.reason ? { reason: values.reason } : undefined)).json()) as { experiment: { id: string; status: string } };
      process.stdout.write(`${experiment.id}: ${experiment.status}\n`);
      return;
    }
    case 'report': {
      const path = `/v1/experiments/${needId()}`;
      if (values.json) process.stdout.write(`${JSON.stringify(await (await call('GET', `${path}/results`)).json(), null, 2)}\n`);
      else process.stdout.write(await (await call('GET', `${path}/report?format=text`)).text());
      if (values.html) {
        await writeFile(values.html, await (await call('GET', `${path}/report`)).text());
        process.stderr.write(`[experiment] HTML report written to ${values.html}\n`);
      }
      return;
    }
    case 'evaluate': {
      const result = (await (await call('POST', `/v1/experiments/${needId()}/evaluate?apply=${values.apply ? 'true' : 'false'}`)).json()) as { decision: { action: string; reasons: string[] }; applied: boolean };
      process.stdout.write(`${result.decision.action}${result.applied ? ' (applied)' : values.apply ? ' (nothing to apply)' : ' (dry run)'}: ${result.decision.reasons.join('; ')}\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command ${command ?? '(none)'}: list, show, create, canary, pause, resume, stop, report, evaluate`);
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`[experiment] ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = error instanceof UsageError || error instanceof SyntaxError ? 2 : 1;
}
