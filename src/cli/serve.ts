import type { Command } from 'commander';
import { describeDatabase } from '../config/database-url.js';
import { cliConfig, cliEnv, type GlobalOptions } from './context.js';

export function registerServeCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('serve the API (PORT and HOST override the configured address)')
    .action(async () => {
      const env = cliEnv();
      const config = cliConfig(globals(), env);
      // Imported here, not at the top: every other command would load the whole server with it.
      const { createTollgate } = await import('../main.js');
      const { tokenCounter } = await import('../services/token-counter.js');
      const tollgate = await createTollgate(config, env);
      // Loading the tokenizer blocks the event loop for about a second; paid here, before the first
      // request, rather than in the middle of traffic when a stream is first cut short.
      await tokenCounter();
      const address = await tollgate.listen();
      tollgate.app.log.info(
        { address, config: config.sourcePath, database: describeDatabase(config.database) },
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
