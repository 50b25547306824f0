/**
 * Run state of one slate version (var/nightly/<version>/state.json): which steps and shards are finished.
 * Written atomically (temp file + rename) after each step, so a run killed at any point restarts from the
 * last finished shard and recomputes nothing that was already written.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const RunStateSchema = z.object({
  version: z.string(),
  modelVersion: z.string(),
  at: z.number(),
  shards: z.number().int().positive(),
  slateSize: z.number().int().positive(),
  /** Fingerprint of the inputs (users, items): a resume with different inputs starts a new version. */
  inputs: z.string(),
  itemsDone: z.boolean(),
  segmentsDone: z.boolean(),
  doneShards: z.array(z.number().int()),
  /** Bytes of every slate written so far (for the summary across resumes). */
  slateBytes: z.array(z.number().int()),
  usersDone: z.number().int(),
  completed: z.boolean(),
  failed: z.string().optional(),
});
export type RunState = z.infer<typeof RunStateSchema>;

export function statePath(stateDir: string, version: string): string {
  return join(stateDir, version, 'state.json');
}

export async function saveState(stateDir: string, state: RunState): Promise<void> {
  const path = statePath(stateDir, state.version);
  await mkdir(join(stateDir, state.version), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state));
  await rename(tmp, path);
}

export async function loadState(stateDir: string, version: string): Promise<RunState | undefined> {
  try {
    return RunStateSchema.parse(JSON.parse(await readFile(statePath(stateDir, version), 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The version `--resume` continues: the newest run, if it has not completed. An unfinished run older than a
 * completed one is abandoned (resuming it would flip the pointer back to older slates); clean-up removes it.
 */
export async function newestUnfinished(stateDir: string): Promise<RunState | undefined> {
  let names: string[];
  try {
    names = await readdir(stateDir);
  } catch {
    return undefined;
  }
  for (const name of names.sort().reverse()) {
    const state = await loadState(stateDir, name);
    if (state) return state.completed ? undefined : state;
  }
  return undefined;
}
