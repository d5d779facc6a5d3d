#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { clientFromEnvironment, UsageError } from './cli/client-context.js';
import { runtimeCommands } from './cli/runtime-commands.js';
import { syncCommand } from './cli/sync-commands.js';
import { workflowCommands } from './cli/workflow-commands.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

const program = new Command('argosync')
  .description('Synchronization limits for workflow systems, provisioned as code')
  .option('-n, --namespace <namespace>', 'namespace', 'default');
for (const command of runtimeCommands(say)) program.addCommand(command);
program.addCommand(syncCommand(() => clientFromEnvironment(), say));
for (const command of workflowCommands(() => clientFromEnvironment(), say)) program.addCommand(command);
// Usage mistakes in any subcommand surface as CommanderError, so they exit 2 like the rest.
const throwOnUsageErrors = (command: Command): void => {
  command.exitOverride();
  command.commands.forEach(throwOnUsageErrors);
};
throwOnUsageErrors(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`argosync: ${message}\n`);
  // 2 for a usage mistake; 1 for everything else (API errors, unreachable server or database).
  process.exit(error instanceof UsageError ? 2 : 1);
}
