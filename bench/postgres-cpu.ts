import { readdirSync, readFileSync } from 'node:fs';
import { cpuMicros } from './proc-cpu.js';

/** The parent process id of `pid`, from /proc/<pid>/stat; undefined once it has gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * CPU time, in microseconds, of the PostgreSQL server listening on `port`: its postmaster (the
 * process started with `port=<port>`) and every process it forked, the backends serving
 * Tollgate's pooled connections among them. Pooled connections live as long as the servers, so
 * read around a round this is the database's CPU for that round's requests. Undefined without /proc.
 */
export function postgresCpuMicros(port: number): number | undefined {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return undefined;
  }
  const roots = new Set(pids.filter((pid) => commandLine(pid).includes(`port=${port} `)));
  if (roots.size === 0) return undefined;
  let total = 0;
  for (const pid of pids) {
    const parent = parentOf(pid);
    if (roots.has(pid) || (parent !== undefined && roots.has(parent))) total += cpuMicros(pid) ?? 0;
  }
  return total;
}
