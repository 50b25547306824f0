/**
 * Keeps the model versions that running experiments serve (variants and shadows) loaded in the registry
 * beside the current one, and unloads them when no running experiment needs them any more. Without the pin
 * a variant's version would fall back to the current model (flagged `variant-model-unavailable`).
 */
import { modelVersionsOf, type Experiment } from './definitions.ts';

export interface PinningRegistry {
  pin(version: string): Promise<void>;
  unpin(version: string): void;
}

export function experimentModelPins(registry: PinningRegistry, log: (line: Record<string, unknown>) => void): (experiments: readonly Experiment[]) => Promise<void> {
  const pinned = new Set<string>();
  return async (experiments) => {
    const wanted = new Set(experiments.filter((e) => e.enabled).flatMap(modelVersionsOf));
    for (const version of wanted) {
      if (pinned.has(version)) continue;
      try {
        await registry.pin(version);
        pinned.add(version);
      } catch (error) {
        log({ component: 'experiments', level: 'warn', version, error: `model version cannot be loaded: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    for (const version of pinned) {
      if (wanted.has(version)) continue;
      registry.unpin(version);
      pinned.delete(version);
    }
  };
}
