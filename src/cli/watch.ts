/**
 * `taskguard watch <ref> [--timeout 10m]`: tracks one run or task with a `TaskManager` (polls with
 * backoff, cancels at the deadline) and exits with a code that reflects the outcome. `follow` is the
 * watch itself, shared with `run`, which creates the task first.
 * @module
 */
import { Option, type Command } from 'commander';
import { TaskManager } from '../manager/task-manager.js';
import type { TaskHandle, TaskOutcome, TaskResult } from '../manager/types.js';
import { clientsFor, type ApiCommandOptions, type Clients } from './clients.js';
import { apiOptions, durationArg, examples } from './common.js';
import type { CliContext } from './context.js';
import { formatDuration } from './durations.js';
import { EXIT, errorLine } from './errors.js';
import { showRef } from './format.js';
import { parseRef } from './refs.js';
import { WatchView } from './watch-view.js';
import { LogPrinter } from './log-format.js';
import { printLogStream, show } from './logs.js';

export interface WatchOptions extends ApiCommandOptions {
  readonly timeout?: number | undefined;
  readonly interval: number;
  readonly cancelOnInterrupt: boolean;
  /** Print the task's log events beside its status lines. */
  readonly logs?: boolean | undefined;
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

/** The exit codes of `watch` and `run`, for their help. */
export const WATCH_EXIT_HELP =
  '\nExit codes: 0 completed · 1 failed, interrupted, lost or error · 124 timed out (cancelled at --timeout) · 130 cancelled\n' +
  'Ctrl-C cancels the task (exit 130) unless --no-cancel-on-interrupt; a second Ctrl-C stops waiting for the cancel.\n';

/** Adds the options `watch` and `run` share: `--timeout`, `--interval`, `--no-cancel-on-interrupt`. */
export function watchOptions(command: Command): Command {
  return command
    .option('--timeout <duration>', 'cancel (agent) or stop (cloud) the task if it has not ended by then, e.g. 90s, 10m, 1h', durationArg(1))
    .addOption(
      new Option('--interval <duration>', 'first poll delay; polls back off from it (×2 up to 10s) and restart from it on a change')
        .argParser(durationArg(1))
        .default(1_000, '1s'),
    )
    .option('--no-cancel-on-interrupt', 'on Ctrl-C (SIGINT/SIGTERM) stop watching but leave the task running')
    .option('--logs', "print the task's log events as they come (on stderr with --json)");
}

export function registerWatch(program: Command, context: CliContext): void {
  watchOptions(apiOptions(program.command('watch').argument('<ref>', 'agent:<runId>, cloud:<taskId>, or a bare run ID')))
    .description('Watch a run or task until it ends; cancel it at --timeout. The exit code reflects the outcome')
    .addHelpText(
      'after',
      examples(['taskguard watch agent:3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f --timeout 10m', 'taskguard watch cloud:9qQe2F8Z_nXx9-eJA0BD6 --json']) + WATCH_EXIT_HELP,
    )
    .action(async (ref: string, options: WatchOptions) => {
      context.exitCode = await watch(context, ref, options);
    });
}

/** A manager for the clients of one watched task, polling from `options.interval`. */
export function watchManager(clients: Clients, options: WatchOptions): TaskManager {
  const interval = options.interval;
  return new TaskManager({ ...clients, poll: { initialMs: interval, maxMs: Math.max(interval, 10_000), factor: 2, jitter: 0.1 } });
}

export async function watch(context: CliContext, text: string, options: WatchOptions): Promise<number> {
  const ref = parseRef(text);
  const clients = clientsFor(context, [ref], options);
  const manager = watchManager(clients, options);
  return follow(context, manager, options, {
    begin: () => manager.track(ref, options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
    beside: logsBeside(context, clients, options),
  });
}

/** How {@link follow} gets its task, and what runs beside the watch. */
export interface FollowPlan {
  /** Tracks the task (`watch`), or creates and tracks it (`run`). */
  readonly begin: () => TaskHandle | Promise<TaskHandle>;
  /**
   * Runs while the task is watched, such as `run --logs`; `signal` aborts once the outcome is known and
   * a short grace has passed, so that what the task wrote last still shows.
   */
  readonly beside?: ((handle: TaskHandle, view: WatchView, signal: AbortSignal) => Promise<void>) | undefined;
}

/** How long `beside` may still run after the outcome is known. */
const BESIDE_GRACE_MS = 2_000;

/** Watches the task of `plan` with `manager` until it ends (or Ctrl-C), shows it, closes the manager, and returns the exit code. */
export async function follow(context: CliContext, manager: TaskManager, options: WatchOptions, plan: FollowPlan): Promise<number> {
  let handle: TaskHandle | undefined;
  let view: WatchView | undefined;
  let interrupts = 0;
  let cancelOnStart: NodeJS.Signals | undefined;
  let leave: (signal: NodeJS.Signals) => void = () => {};
  const left = new Promise<NodeJS.Signals>((resolve) => (leave = resolve));
  const cancel = (started: TaskHandle, signal: NodeJS.Signals): void => {
    view?.event(`${signal}: cancelling ${showRef(started.ref)} (again to stop waiting)`);
    manager.cancel(started.ref).catch(() => {}); // a failed cancel is retried by the manager; the outcome tells
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts === 1 && options.cancelOnInterrupt) {
      // A Ctrl-C while `run` is still creating the task cancels it as soon as it exists: never left behind.
      if (handle === undefined) cancelOnStart = signal;
      else cancel(handle, signal);
      return;
    }
    leave(signal);
  };
  const besideStop = new AbortController();
  let besideDone: Promise<void> | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) context.signals.on(signal, onSignal);
  try {
    const started = (handle = await plan.begin());
    const shown = (view = new WatchView(context, started.ref, started.deadline));
    manager.on('status', ({ status }) => shown.status(status));
    manager.on('timeout', () => shown.event(`deadline passed: ${started.ref.kind === 'cloud' ? 'stopping' : 'cancelling'} ${showRef(started.ref)}`));
    manager.on('cancelFailed', ({ error }) => shown.event(`cancel failed, retrying: ${errorLine(error, context.env)}`));
    manager.on('error', ({ error }) => shown.event(`poll failed, retrying: ${errorLine(error, context.env)}`));
    if (cancelOnStart !== undefined) cancel(started, cancelOnStart);
    besideDone = plan.beside?.(started, shown, besideStop.signal);
    const ended = await Promise.race([started.done, left]);
    if (besideDone !== undefined && typeof ended !== 'string') await settleWithin(besideDone, BESIDE_GRACE_MS);
    if (typeof ended === 'string') {
      const detail = options.cancelOnInterrupt
        ? `${ended} again: stopped waiting; the cancel may not have been confirmed`
        : `${ended}: stopped watching; the task was left running`;
      shown.finish(undefined, EXIT.cancelled, detail);
      return EXIT.cancelled;
    }
    const code = OUTCOME_EXIT[ended.outcome];
    shown.finish(ended, code, detailOf(context, ended, options.timeout));
    return code;
  } finally {
    besideStop.abort();
    await besideDone;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) context.signals.off(signal, onSignal);
    view?.stop();
    await manager.close();
  }
}

async function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
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

/** With `--logs`, the log stream that runs beside the watch. */
export function logsBeside(context: CliContext, clients: Clients, options: WatchOptions): FollowPlan['beside'] {
  return options.logs === true ? (handle, view, signal) => showLogs(context, clients, handle, view, signal) : undefined;
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
