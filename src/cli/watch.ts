/**
 * `taskguard watch <ref> [--timeout 10m]`: tracks one run or task with a `TaskManager` (polls with
 * backoff, cancels at the deadline) and exits with a code that reflects the outcome.
 * @module
 */
import { Option, type Command } from 'commander';
import { TaskManager } from '../manager/task-manager.js';
import type { TaskOutcome, TaskResult } from '../manager/types.js';
import { clientsFor, type ApiCommandOptions } from './clients.js';
import { apiOptions, durationArg, examples } from './common.js';
import type { CliContext } from './context.js';
import { formatDuration } from './durations.js';
import { EXIT, errorLine } from './errors.js';
import { showRef } from './format.js';
import { parseRef } from './refs.js';
import { WatchView } from './watch-view.js';

export interface WatchOptions extends ApiCommandOptions {
  readonly timeout?: number | undefined;
  readonly interval: number;
  readonly cancelOnInterrupt: boolean;
}

/** The exit code of each outcome. */
export const OUTCOME_EXIT: Readonly<Record<TaskOutcome, number>> = {
  completed: EXIT.ok,
  failed: EXIT.failure,
  interrupted: EXIT.failure,
  lost: EXIT.failure,
  error: EXIT.failure,
  timed_out: EXIT.timedOut,
  cancelled: EXIT.cancelled,
};

export function registerWatch(program: Command, context: CliContext): void {
  apiOptions(program.command('watch').argument('<ref>', 'agent:<runId>, cloud:<taskId>, or a bare run ID'))
    .description('Watch a run or task until it ends; cancel it at --timeout. The exit code reflects the outcome')
    .option('--timeout <duration>', 'cancel (agent) or stop (cloud) the task if it has not ended by then, e.g. 90s, 10m, 1h', durationArg(1))
    .addOption(
      new Option('--interval <duration>', 'first poll delay; polls back off from it (×2 up to 10s) and restart from it on a change')
        .argParser(durationArg(1))
        .default(1_000, '1s'),
    )
    .option('--no-cancel-on-interrupt', 'on Ctrl-C (SIGINT/SIGTERM) stop watching but leave the task running')
    .addHelpText(
      'after',
      examples(['taskguard watch agent:3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f --timeout 10m', 'taskguard watch cloud:9qQe2F8Z_nXx9-eJA0BD6 --json']) +
        '\nExit codes: 0 completed · 1 failed, interrupted, lost or error · 124 timed out (cancelled at --timeout) · 130 cancelled\n' +
        'Ctrl-C cancels the task (exit 130) unless --no-cancel-on-interrupt; a second Ctrl-C stops waiting for the cancel.\n',
    )
    .action(async (ref: string, options: WatchOptions) => {
      context.exitCode = await watch(context, ref, options);
    });
}

export async function watch(context: CliContext, text: string, options: WatchOptions): Promise<number> {
  const ref = parseRef(text);
  const clients = clientsFor(context, [ref], options);
  const interval = options.interval;
  const manager = new TaskManager({ ...clients, poll: { initialMs: interval, maxMs: Math.max(interval, 10_000), factor: 2, jitter: 0.1 } });
  let view: WatchView | undefined;
  let interrupts = 0;
  let leave: (signal: NodeJS.Signals) => void = () => {};
  const left = new Promise<NodeJS.Signals>((resolve) => (leave = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts === 1 && options.cancelOnInterrupt) {
      view?.event(`${signal}: cancelling ${showRef(ref)} (again to stop waiting)`);
      manager.cancel(ref).catch(() => {}); // a failed cancel is retried by the manager; the outcome tells
      return;
    }
    leave(signal);
  };
  try {
    const handle = manager.track(ref, options.timeout === undefined ? {} : { timeoutMs: options.timeout });
    view = new WatchView(context, ref, handle.deadline);
    const shown = view;
    manager.on('status', ({ status }) => shown.status(status));
    manager.on('timeout', () => shown.event(`deadline passed: ${ref.kind === 'cloud' ? 'stopping' : 'cancelling'} ${showRef(ref)}`));
    manager.on('cancelFailed', ({ error }) => shown.event(`cancel failed, retrying: ${errorLine(error, context.env)}`));
    manager.on('error', ({ error }) => shown.event(`poll failed, retrying: ${errorLine(error, context.env)}`));
    for (const signal of ['SIGINT', 'SIGTERM'] as const) context.signals.on(signal, onSignal);
    const ended = await Promise.race([handle.done, left]);
    if (typeof ended === 'string') {
      const detail = options.cancelOnInterrupt
        ? `${ended} again: stopped waiting; the cancel may not have been confirmed`
        : `${ended}: stopped watching; the task was left running`;
      view.finish(undefined, EXIT.cancelled, detail);
      return EXIT.cancelled;
    }
    const code = OUTCOME_EXIT[ended.outcome];
    view.finish(ended, code, detailOf(context, ended, options.timeout));
    return code;
  } finally {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) context.signals.off(signal, onSignal);
    view?.stop();
    manager.close();
  }
}

function detailOf(context: CliContext, result: TaskResult, timeout: number | undefined): string {
  switch (result.outcome) {
    case 'timed_out':
      return `${result.kind === 'cloud' ? 'stopped' : 'cancelled'} at its ${formatDuration(timeout ?? 0)} deadline`;
    case 'interrupted':
      return 'the agent server restarted';
    case 'lost':
      return 'not found: the API answered 404';
    case 'error':
      return result.error === undefined ? '' : errorLine(result.error, context.env);
    default:
      return '';
  }
}
