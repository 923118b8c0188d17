import path from 'node:path';
import { type Child, startChild, urlLine } from './child-process.js';
import { postgresArm } from './postgres-entry.js';
import { postgresMarkdown } from './report-postgres.js';

/**
 * The PostgreSQL arm alone (`node dist/bench/postgres.js`, BENCH_QUICK=1 for a short run), with its
 * own upstream and bare pass-through; prints its section of the report. `npm run bench` runs it
 * with every other arm.
 */
const dist = path.dirname(new URL(import.meta.url).pathname);
const children: Child[] = [];
try {
  const start = async (script: string, env: NodeJS.ProcessEnv) => {
    const child = await startChild([path.join(dist, script)], { PATH: process.env.PATH, ...env }, urlLine);
    children.push(child);
    return child;
  };
  const upstream = await start('upstream-server.js', {});
  const bare = await start('bare-proxy.js', { BENCH_UPSTREAM: upstream.url });
  const report = await postgresArm({ direct: upstream.url, bare: bare.url, bareId: bare.process.pid });
  process.stdout.write(`${postgresMarkdown(report).join('\n')}\n`);
} finally {
  await Promise.all(children.map((child) => child.stop()));
}
