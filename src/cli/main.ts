import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load-config.js';
import { ServerLockError } from '../store/server-lock.js';
import { registerAccountCommands } from './accounts.js';
import type { GlobalOptions } from './context.js';
import { registerCreditCommands } from './credits.js';
import { registerInitCommand } from './init.js';
import { registerKeyCommands } from './keys.js';
import { UsageError } from './output.js';
import { registerServeCommand } from './serve.js';
import { registerPlanCommands } from './subscriptions.js';
import { registerUsageCommand } from './usage.js';
import { registerUserCommands } from './users.js';

const program = new Command('tollgate')
  .description('Tollgate: an OpenAI-compatible LLM API gateway with Bearer API keys and prepaid billing')
  .option(
    '-c, --config <file>',
    'configuration file (default: $TOLLGATE_CONFIG, ./tollgate.yaml, ./tollgate.example.yaml)',
  )
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  .exitOverride();

let jsonAfterCommand = false;
const globals = (): GlobalOptions => ({
  ...program.opts<GlobalOptions>(),
  json: program.opts().json === true || jsonAfterCommand,
});
registerServeCommand(program, globals);
registerInitCommand(program);
registerAccountCommands(program, globals);
registerCreditCommands(program, globals);
registerKeyCommands(program, globals);
registerPlanCommands(program, globals);
registerUsageCommand(program, globals);
registerUserCommands(program, globals);
// `--json` is accepted after the subcommand too (`keys create … --json`).
for (const command of program.commands) {
  for (const leaf of command.commands.length > 0 ? command.commands : [command]) {
    leaf.option('--json', 'machine-readable output');
  }
}
program.hook('preAction', (_program, action) => {
  if (action.opts().json === true) jsonAfterCommand = true;
});

function fail(message: string): never {
  if (globals().json) process.stderr.write(`${JSON.stringify({ error: { message } })}\n`);
  else process.stderr.write(`tollgate: ${message}\n`);
  process.exit(1);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof ServerLockError)
    fail(error.message);
  fail(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
}
