/**
 * ModelRegistry: serves one current model version and hot-swaps it. It polls the pointer file
 * (models/artifacts/current.json); when the pointer names a new version it loads and warms that version
 * next to the current one, then swaps the reference atomically. Requests hold a lease while they run, so
 * in-flight work finishes on the old version, which is disposed only when its last lease is released.
 * A version that fails to load is never swapped in; when nothing could ever be loaded, the registry still
 * offers the version's feature space (if readable) so the pipeline can answer from popularity.
 * How a version is loaded (ONNX sessions, ANN index) is the injected ModelLoader's business.
 */
import { join } from 'node:path';
import type { FeatureSpace } from '../../shared/features/feature-space.ts';
import type { LoadedModel, ModelLoader } from '../ports/model.ts';
import { readFeatureSpace, readManifest, readPointer } from './artifacts.ts';

export interface ModelLease {
  model: LoadedModel;
  release(): void;
}

export interface RegistryStatus {
  version: string | null;
  loadedAt: number | null;
  lastError: string | null;
  swaps: number;
  pinned: string[];
  /** Execution providers the current version runs on, and load warnings (e.g. CUDA fallback to CPU). */
  providers: string[];
  warnings: string[];
}

export interface ModelRegistryOptions {
  /** Loads one version folder (adapters/onnx: onnxModelLoader). */
  loader: ModelLoader;
  /** Folder holding current.json and one folder per version. */
  artifactsRoot: string;
  /** Poll interval for current.json; 0 disables polling (call reload()). */
  pollMs?: number;
  /** Serve exactly this version folder and ignore current.json (nightly runs pin the version they started with). */
  fixedVersion?: string | undefined;
  log?: (line: Record<string, unknown>) => void;
  /** Extra warm-up on a freshly loaded version before it is swapped in (e.g. the popularity order). */
  prepare?: ((model: LoadedModel) => void | Promise<void>) | undefined;
}

interface Entry {
  model: LoadedModel;
  leases: number;
  retired: boolean;
}

export class ModelRegistry {
  private readonly options: ModelRegistryOptions;
  private entry: Entry | null = null;
  private readonly pinned = new Map<string, Entry>();
  private fallback: { version: string; space: FeatureSpace } | null = null;
  private loading: Promise<boolean> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastPointer: string | null = null;
  private failedVersion: string | null = null;
  private state: RegistryStatus = { version: null, loadedAt: null, lastError: null, swaps: 0, pinned: [], providers: [], warnings: [] };

  constructor(options: ModelRegistryOptions) {
    this.options = options;
  }

  /** Loads the pointed version (errors are recorded, not thrown) and starts polling. */
  async start(): Promise<void> {
    await this.reload();
    const pollMs = this.options.pollMs ?? 5000;
    if (pollMs > 0 && this.timer === null) {
      this.timer = setInterval(() => void this.reload(), pollMs);
      this.timer.unref();
    }
  }

  get status(): RegistryStatus {
    return { ...this.state, pinned: [...this.pinned.keys()] };
  }

  /** Version served now, or the fallback feature space's version, or 'none'. */
  get version(): string {
    return this.entry?.model.version ?? this.fallback?.version ?? 'none';
  }

  /** A lease on the current model (or a pinned version); null when no model is loaded. */
  acquire(version?: string | undefined): ModelLease | null {
    const entry = (version !== undefined ? (this.pinned.get(version) ?? (this.entry?.model.version === version ? this.entry : null)) : null) ?? this.entry;
    if (!entry) return null;
    entry.leases++;
    let released = false;
    return {
      model: entry.model,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        this.disposeIfIdle(entry);
      },
    };
  }

  /** Feature space to answer from when no model is loaded (popular fallback). */
  fallbackSpace(): { version: string; space: FeatureSpace } | null {
    if (this.entry) return { version: this.entry.model.version, space: this.entry.model.space };
    return this.fallback;
  }

  /** Checks the pointer now; resolves true when a new version was swapped in. */
  reload(): Promise<boolean> {
    if (this.loading) return this.loading;
    this.loading = this.reloadOnce().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  /**
   * Loads the pointed version again even when it is the one served (e.g. the catalogue gained items the
   * loader embeds by the cold-start fallback) and swaps it in like a new version; resolves true when swapped.
   */
  refresh(): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      await this.loading?.catch(() => undefined);
      this.loading = this.reloadOnce(true).finally(() => {
        this.loading = null;
      });
      return this.loading;
    };
    return run();
  }

  /** Loads an extra version (experiments, shadow) that stays loaded until unpinned. */
  async pin(version: string): Promise<void> {
    if (this.pinned.has(version)) return;
    const model = await this.options.loader.load(join(this.options.artifactsRoot, version));
    await this.options.prepare?.(model);
    this.pinned.set(version, { model, leases: 0, retired: false });
    this.log({ event: 'model-pinned', version });
  }

  unpin(version: string): void {
    const entry = this.pinned.get(version);
    if (!entry) return;
    this.pinned.delete(version);
    entry.retired = true;
    this.disposeIfIdle(entry);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.loading?.catch(() => undefined);
    const entries = [this.entry, ...this.pinned.values()].filter((e): e is Entry => e !== null);
    this.entry = null;
    this.pinned.clear();
    await Promise.all(entries.map((e) => e.model.dispose()));
  }

  private async reloadOnce(force = false): Promise<boolean> {
    let version: string;
    if (this.options.fixedVersion !== undefined) version = this.options.fixedVersion;
    else try {
      version = await readPointer(this.options.artifactsRoot);
    } catch (error) {
      this.recordError(`pointer unreadable: ${messageOf(error)}`);
      return false;
    }
    if (!force && (version === this.entry?.model.version || version === this.failedVersion)) return false;
    this.lastPointer = version;
    const dir = join(this.options.artifactsRoot, version);
    const started = performance.now();
    try {
      const model = await this.options.loader.load(dir);
      await this.options.prepare?.(model);
      if (this.lastPointer !== version) {
        await model.dispose(); // the pointer moved on while we loaded
        return false;
      }
      const previous = this.entry;
      this.entry = { model, leases: 0, retired: false };
      this.failedVersion = null;
      this.fallback = null;
      this.state = { ...this.state, version, loadedAt: Date.now(), lastError: null, swaps: this.state.swaps + (previous ? 1 : 0), providers: [...model.providers], warnings: [...model.warnings] };
      for (const warning of model.warnings) this.log({ event: 'model-warning', version, warning });
      this.log({ event: 'model-swapped', version, previous: previous?.model.version ?? null, loadMs: Math.round(performance.now() - started) });
      if (previous) {
        previous.retired = true;
        this.disposeIfIdle(previous);
      }
      return true;
    } catch (error) {
      this.failedVersion = version;
      this.recordError(`version ${version} failed to load: ${messageOf(error)}`);
      if (!this.entry) await this.loadFallbackSpace(dir);
      return false;
    }
  }

  private async loadFallbackSpace(dir: string): Promise<void> {
    try {
      const manifest = await readManifest(dir);
      this.fallback = { version: manifest.version, space: await readFeatureSpace(dir, manifest) };
    } catch (error) {
      this.log({ event: 'model-fallback-unavailable', error: messageOf(error) });
    }
  }

  private disposeIfIdle(entry: Entry): void {
    if (entry.retired && entry.leases === 0) {
      void entry.model.dispose();
      this.log({ event: 'model-disposed', version: entry.model.version });
    }
  }

  private recordError(message: string): void {
    this.state = { ...this.state, lastError: message };
    this.log({ event: 'model-load-failed', error: message });
  }

  private log(line: Record<string, unknown>): void {
    this.options.log?.(line);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
