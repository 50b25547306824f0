/**
 * Moves the model pointer (current.json in the artifacts folder) to another version atomically: write a
 * temporary file beside it, then rename over it, so a registry polling the pointer never reads half a file.
 * Refuses a version whose folder has no valid manifest of that version. Used by the canary's promotion.
 */
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from './artifacts.ts';

const VERSION = /^[A-Za-z0-9][\w-]*(\.[\w-]+)*$/;

export async function publishVersion(artifactsRoot: string, version: string): Promise<void> {
  if (!VERSION.test(version)) throw new Error(`not a version folder name: ${version}`);
  const manifest = await readManifest(join(artifactsRoot, version));
  if (manifest.version !== version) throw new Error(`folder ${version} holds manifest version ${manifest.version}`);
  const tmp = join(artifactsRoot, `.current.${process.pid}.${Date.now()}.json`);
  await writeFile(tmp, JSON.stringify({ version }));
  await rename(tmp, join(artifactsRoot, 'current.json'));
}
