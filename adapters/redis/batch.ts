/**
 * Runs many commands in as few round trips as the deployment allows: one pipeline (or MULTI) on a single node;
 * on a Redis Cluster, one pipeline per node (a pipeline may not span nodes) or one MULTI per slot, in parallel.
 * Commands on the same key stay in their order (same slot → same group → same pipeline). Results come back in the
 * order of `commands`; the first failed command's error is thrown.
 */
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import type { RedisClient } from './connect.ts';

/** [command, key, ...arguments] — the key is the first argument of every command used here. */
export type Command = [name: string, key: string, ...args: (string | number)[]];

export async function execBatch(redis: RedisClient, commands: readonly Command[], options: { transaction?: boolean; keyPrefix?: string } = {}): Promise<unknown[]> {
  if (commands.length === 0) return [];
  const groups = new Map<string, number[]>();
  commands.forEach((command, i) => {
    const slot = redis.isCluster ? calculateSlot(`${options.keyPrefix ?? ''}${command[1]}`) : 0;
    // A transaction stays inside one slot; a plain pipeline inside one node.
    const group = !redis.isCluster ? '' : options.transaction ? `slot:${slot}` : nodeOf(redis as Cluster, slot);
    const members = groups.get(group);
    if (members) members.push(i);
    else groups.set(group, [i]);
  });
  const results: unknown[] = new Array(commands.length);
  await Promise.all([...groups.values()].map(async (indices) => {
    const list = indices.map((i) => commands[i]! as unknown as string[]);
    const out = (await (options.transaction ? redis.multi(list) : redis.pipeline(list)).exec()) ?? [];
    out.forEach(([error, value], j) => {
      if (error) throw error;
      results[indices[j]!] = value;
    });
  }));
  return results;
}

/** The nodes serving a slot (ioredis' slot table), or the slot itself before the table is known. */
function nodeOf(cluster: Cluster, slot: number): string {
  return cluster.slots[slot]?.join(',') ?? `slot:${slot}`;
}
