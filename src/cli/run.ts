/**
 * `taskguard run <prompt> [--cloud] [--timeout 10m] [--logs]`: creates an agent run (or a cloud task)
 * with `TaskManager.start`, then watches it exactly as `watch` does — cancelled at the deadline, exit
 * code from the outcome — optionally printing its log events as they come.
 * @module
 */
import type { Command } from 'commander';
import { clientsOfKinds } from './clients.js';
import { apiOptions, examples } from './common.js';
import type { CliContext } from './context.js';
import { showRef } from './format.js';
import { follow, logsBeside, WATCH_EXIT_HELP, watchManager, watchOptions, type WatchOptions } from './watch.js';

export interface RunOptions extends WatchOptions {
  readonly cloud?: boolean | undefined;
}

export function registerRun(program: Command, context: CliContext): void {
  watchOptions(apiOptions(program.command('run').argument('<prompt>', 'the instruction for the agent (quote it)')))
    .description('Start an agent run (or, with --cloud, a cloud task), watch it until it ends, and cancel it at --timeout')
    .option('--cloud', 'start a cloud task (Cloud API) instead of an agent run')
    .addHelpText(
      'after',
      examples(['taskguard run "Add a CHANGELOG entry" --timeout 10m', 'taskguard run "Fix the flaky test" --cloud --timeout 30m --logs', 'taskguard run "Bump deps" --json']) +
        WATCH_EXIT_HELP,
    )
    .action(async (prompt: string, options: RunOptions) => {
      context.exitCode = await run(context, prompt, options);
    });
}

export async function run(context: CliContext, prompt: string, options: RunOptions): Promise<number> {
  const kind = options.cloud === true ? 'cloud' : 'agent';
  const clients = clientsOfKinds(context, new Set([kind]), options);
  const manager = watchManager(clients, options);
  const track = options.timeout === undefined ? {} : { timeoutMs: options.timeout };
  return follow(context, manager, options, {
    begin: async () => {
      const started = kind === 'cloud' ? await manager.start('cloud', { prompt }, track) : await manager.start('agent', { prompt }, track);
      if (!context.json) context.print(`started ${showRef(started.ref)}`);
      return started;
    },
    beside: logsBeside(context, clients, options),
  });
}
