import type { PostgresArmName, PostgresReport } from './postgres-arm.js';

const us = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(0));

/** The PostgreSQL arm's section of latest.md; a string when it was skipped, saying why. */
export function postgresMarkdown(postgres: PostgresReport | string): string[] {
  if (typeof postgres === 'string') return ['## PostgreSQL', '', `Skipped: ${postgres}`, ''];
  const names: PostgresArmName[] = ['bare', 'postgres-1', 'postgres-2'];
  return [
    `## PostgreSQL: one and two instances, ${postgres.connections} connections, zero-latency upstream`,
    '',
    'Tollgate on PostgreSQL 15 (fsync and synchronous commit on) on this machine, seeded like the SQLite arm (one account, one key); two instances share one Redis and the load generator’s connections half and half. The database’s CPU is its server processes’ utime + stime from /proc; commits from pg_stat_database.',
    '',
    '| arm | req/s | p50 ms | p99 ms | requests | Tollgate CPU µs/req | PostgreSQL CPU µs/req | commits/req |',
    '|---|---|---|---|---|---|---|---|',
    ...names.map((name) => {
      const s = postgres.arms[name];
      return `| ${name} | ${s.rps.toFixed(0)} | ${s.p50Ms.toFixed(1)} | ${s.p99Ms.toFixed(1)} | ${s.requests} | ${us(s.gatewayCpuUsPerRequest)} | ${us(s.databaseCpuUsPerRequest)} | ${s.commitsPerRequest === undefined ? '–' : s.commitsPerRequest.toFixed(2)} |`;
    }),
    '',
    `- Against the bare pass-through, median of the rounds: one instance **${postgres.vsBare['postgres-1'].toFixed(2)}×**, two instances **${postgres.vsBare['postgres-2'].toFixed(2)}×** (on 2 cores, two instances compete with each other, the database and the load generator: see docs/scaling.md)`,
    `- Added over a direct call at one connection (median of the rounds), p50: bare ${us(postgres.latency.addedP50Us.bare)} µs, one instance ${us(postgres.latency.addedP50Us['postgres-1'])} µs, two ${us(postgres.latency.addedP50Us['postgres-2'])} µs; p99: bare ${us(postgres.latency.addedP99Us.bare)} µs, one ${us(postgres.latency.addedP99Us['postgres-1'])} µs, two ${us(postgres.latency.addedP99Us['postgres-2'])} µs`,
    '',
  ];
}
