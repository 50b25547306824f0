/**
 * CPU time of processes from /proc (Linux), at nanosecond resolution: the sum over every thread of
 * `/proc/<pid>/task/<tid>/schedstat`'s first field (time spent on a CPU). It counts only CPU the process
 * actually got, so other load on the machine does not inflate it (unlike wall-clock timing).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Every process on the machine: pid, parent pid and command name (from /proc/<pid>/stat). */
function processTable(): { pid: number; ppid: number; name: string }[] {
  const out: { pid: number; ppid: number; name: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      out.push({ pid: Number(entry), ppid: Number(text.slice(close + 2).split(' ')[1]), name: text.slice(text.indexOf('(') + 1, close) });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Pids of the descendants of `root` whose command name is `name` (e.g. the workerd Miniflare started). */
export function descendantsNamed(root: number, name: string): number[] {
  const table = processTable();
  const names = new Map(table.map((p) => [p.pid, p.name]));
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop() ?? 0) ?? []) {
      if (names.get(child) === name) out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Pids of every process on the machine whose command name is `name` (e.g. redis-server, postgres). */
export function processesNamed(name: string): number[] {
  return processTable().filter((p) => p.name === name).map((p) => p.pid);
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
