import type { Command } from 'commander';
import { createTollgate } from '../main.js';
import { cliConfig, cliEnv, type GlobalOptions } from './context.js';

export function registerServeCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('serve the API (PORT and HOST override the configured address)')
    .action(async () => {
      const env = cliEnv();
      const config = cliConfig(globals(), env);
      const tollgate = await createTollgate(config, env);
      const address = await tollgate.listen();
      tollgate.app.log.info(
        { address, config: config.sourcePath, database: config.databasePath },
        'tollgate is serving',
      );
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        tollgate.app.log.info({ signal }, 'shutting down: finishing requests in flight');
        tollgate.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
}
