/**
 * CPU time of processes from /proc (Linux), at nanosecond resolution: the sum over every thread of
 * `/proc/<pid>/task/<tid>/schedstat`'s first field (time spent on a CPU). It counts only CPU the process
 * actually got, so other load on the machine does not inflate it (unlike wall-clock timing).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of the descendants of `root` whose command name is `name` (e.g. the workerd Miniflare started). */
export function descendantsNamed(root: number, name: string): number[] {
  const parents = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const ppid = Number(text.slice(close + 2).split(' ')[1]);
      names.set(Number(entry), text.slice(text.indexOf('(') + 1, close));
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of parents.get(queue.pop() ?? 0) ?? []) {
      if (names.get(child) === name) out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Pids of every process on the machine whose command name is `name` (e.g. redis-server, postgres). */
export function processesNamed(name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) out.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Nanoseconds of CPU used so far by all threads of `pids` (a process that has ended counts nothing). */
export function cpuNs(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // thread ended
      }
    }
  }
  return total;
}
