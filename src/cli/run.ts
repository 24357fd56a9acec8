/**
 * `taskguard run <prompt> [--cloud] [--timeout 10m] [--logs]`: creates an agent run (or a cloud task)
 * with `TaskManager.start`, then watches it exactly as `watch` does — cancelled at the deadline, exit
 * code from the outcome — optionally printing its log events as they come.
 * @module
 */
import type { Command } from 'commander';
import type { TaskHandle } from '../manager/types.js';
import { clientsOfKinds, type Clients } from './clients.js';
import { apiOptions, examples } from './common.js';
import type { CliContext } from './context.js';
import { errorLine } from './errors.js';
import { showRef } from './format.js';
import { LogPrinter } from './log-format.js';
import { printLogStream, show } from './logs.js';
import { follow, WATCH_EXIT_HELP, watchManager, watchOptions, type WatchOptions } from './watch.js';
import type { WatchView } from './watch-view.js';

export interface RunOptions extends WatchOptions {
  readonly cloud?: boolean | undefined;
  readonly logs?: boolean | undefined;
}

export function registerRun(program: Command, context: CliContext): void {
  watchOptions(apiOptions(program.command('run').argument('<prompt>', 'the instruction for the agent (quote it)')))
    .description('Start an agent run (or, with --cloud, a cloud task), watch it until it ends, and cancel it at --timeout')
    .option('--cloud', 'start a cloud task (Cloud API) instead of an agent run')
    .option('--logs', "print the task's log events as they come (on stderr with --json)")
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
    beside: options.logs === true ? (handle, view, signal) => showLogs(context, clients, handle, view, signal) : undefined,
  });
}

/** The log stream beside the watch; a failure of the stream is shown, and the watch goes on. */
async function showLogs(context: CliContext, clients: Clients, handle: TaskHandle, view: WatchView, signal: AbortSignal): Promise<void> {
  const printer = new LogPrinter((line) => view.line(line), context.colors(context.json ? 'err' : 'out'));
  try {
    await printLogStream(clients, handle.ref, signal, (event) => show(printer, event));
  } catch (error) {
    view.event(`logs: ${errorLine(error, context.env)}`);
  } finally {
    printer.flush();
  }
}
