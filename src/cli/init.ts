import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { KEY_SECRET_ENV } from '../config/secrets.js';
import { envFilePath } from './context.js';

/**
 * First-run set-up for a local install: writes a random key-hashing secret into an env file
 * (mode 0600) that Tollgate reads only for variables the real environment leaves unset. In
 * production, set TOLLGATE_KEY_SECRET in the environment instead; then this does nothing.
 */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      `create ${path.join('data', 'tollgate.env')} with a random ${KEY_SECRET_ENV}, unless one exists`,
    )
    .action(() => {
      const file = envFilePath(process.env);
      if (process.env[KEY_SECRET_ENV] || existsSync(file)) return;
      // The database goes beside it: the directory is private from the start (open-database.ts).
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(
        file,
        `# Written by "tollgate init". Keep it secret; losing it invalidates every API key.\n${KEY_SECRET_ENV}=${randomBytes(32).toString('hex')}\n`,
        {
          mode: 0o600,
        },
      );
      process.stderr.write(`tollgate: wrote a new ${KEY_SECRET_ENV} to ${file}\n`);
    });
}
