/**
 * vitest globalSetup: the whole run gets a private temp folder (TMPDIR, inherited by the test workers and every
 * process they start: origin, nightly, workerd, Chromium), removed when the run ends. Tests still remove
 * their own folders; this also catches what libraries leave there (onnxruntime's empty mat-debug-<pid>.log
 * files, Miniflare's scratch folders), so a run leaves nothing in the machine's temp folder.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'edge-reco-test-'));
  // Traversable like /tmp itself: as root, the private PostgreSQL test cluster runs as the postgres user.
  chmodSync(dir, 0o755);
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
