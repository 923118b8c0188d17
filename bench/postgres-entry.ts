import { postgresMissing, redisMissing } from '../test/support/real-servers.js';
import { type PostgresReport, runPostgresArm } from './postgres-arm.js';
import { settings } from './settings.js';

/** The PostgreSQL arm, or why it does not run (BENCH_POSTGRES=0, or a server missing here). */
export async function postgresArm(urls: {
  direct: string;
  bare: string;
  bareId?: number | undefined;
}): Promise<PostgresReport | string> {
  if (!settings.postgres) return 'BENCH_POSTGRES=0';
  const missing = postgresMissing() ?? redisMissing();
  if (missing) {
    process.stderr.write(`postgres arm skipped: ${missing}\n`);
    return missing;
  }
  return runPostgresArm(urls);
}
