import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Child, startChild, urlLine } from './child-process.js';
import { measureLatency } from './latency.js';
import { runLoad } from './load.js';
import { cpuMicros } from './proc-cpu.js';
import { startTollgate } from './tollgate-server.js';

/**
 * `node dist/bench/profile.js [seconds] [connections]`: Tollgate alone under load, for finding
 * where its CPU goes. Prints main-thread and whole-process CPU µs per request; with
 * BENCH_CPU_PROF=1 Tollgate runs under --cpu-prof and its profile is left in $TMPDIR/tollgate-profiles
 * (read it with `node dist/bench/profile-summary.js <file>`). BENCH_ARM=bare profiles the bare
 * pass-through instead. BENCH_LATENCY=1 times one request at a time instead, and prints p50 and p99.
 */
const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 32);
// Outside the repository: profiles are tens of megabytes.
const profileDir = path.join(tmpdir(), 'tollgate-profiles');
const profile = process.env.BENCH_CPU_PROF === '1';
const nodeArgs = [
  ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
  // Node flags to try on the server, such as a GC setting: BENCH_NODE_ARGS='--max-semi-space-size=32'.
  ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
];
// Variables for the server process only, for experiments: BENCH_SERVER_ENV='NAME=value OTHER=value'.
const serverEnv = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV?.split(' ').filter(Boolean) ?? []).map((pair) => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
if (profile) mkdirSync(profileDir, { recursive: true });

const dist = path.dirname(new URL(import.meta.url).pathname);
const children: Child[] = [];
try {
  const upstream = await startChild(
    [path.join(dist, 'upstream-server.js')],
    // BENCH_UPSTREAM_DELAY_MS=20 profiles against the slow upstream of the 64-connection scenario.
    { PATH: process.env.PATH, BENCH_UPSTREAM_DELAY_MS: process.env.BENCH_UPSTREAM_DELAY_MS ?? '0' },
    urlLine,
  );
  children.push(upstream);
  let target: { child: Child; key: string; model: string };
  if (process.env.BENCH_ARM === 'bare') {
    const child = await startChild(
      [...nodeArgs, path.join(dist, 'bare-proxy.js')],
      { PATH: process.env.PATH, BENCH_UPSTREAM: upstream.url },
      urlLine,
    );
    target = { child, key: 'none', model: 'fake-model' };
  } else {
    const tollgate = await startTollgate(upstream.url, upstream.url, upstream.url, {
      nodeArgs,
      env: serverEnv,
    });
    target = { ...tollgate, model: 'bench-model' };
  }
  children.push(target.child);
  const spec = { url: target.child.url, key: target.key, model: target.model, connections };
  // BENCH_WARMUP_S: longer for tail latencies, which the first seconds' compilations would set.
  await runLoad({ ...spec, seconds: Number(process.env.BENCH_WARMUP_S ?? 2) });
  if (process.env.BENCH_LATENCY === '1') {
    const latency = await measureLatency({ ...spec, seconds });
    process.stdout.write(
      `p50 ${latency.p50Us.toFixed(0)} µs, p90 ${latency.p90Us.toFixed(0)} µs, p99 ${latency.p99Us.toFixed(0)} µs, ` +
        `p99.9 ${latency.p999Us.toFixed(0)} µs, ${latency.requests} requests\n`,
    );
  } else {
    const pid = target.child.process.pid;
    const before = { main: cpuMicros(pid, true) ?? 0, all: cpuMicros(pid) ?? 0 };
    const result = await runLoad({ ...spec, seconds });
    const after = { main: cpuMicros(pid, true) ?? 0, all: cpuMicros(pid) ?? 0 };
    const perRequest = (from: number, to: number) => ((to - from) / result.requests).toFixed(1);
    process.stdout.write(
      `${result.rps.toFixed(0)} req/s, ${result.requests} requests, ${result.non2xx} non-2xx; ` +
        `CPU µs/request: main thread ${perRequest(before.main, after.main)}, process ${perRequest(before.all, after.all)}\n`,
    );
  }
} finally {
  // The profile is written when the process exits on SIGTERM (Tollgate closes gracefully).
  await Promise.all(children.map((child) => child.stop()));
  if (profile) process.stdout.write(`profile written to ${profileDir}\n`);
}
