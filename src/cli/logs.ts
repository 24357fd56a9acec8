/**
 * `taskguard logs <ref> [--follow]`: a run's or task's log events. Without `--follow`, what it has
 * logged so far; with it, the live stream until the task ends (or Ctrl-C, which leaves the task running).
 * @module
 */
import type { Command } from 'commander';
import type { TaskRef } from '../refs.js';
import { clientsFor, type ApiCommandOptions, type Clients } from './clients.js';
import { apiOptions, examples } from './common.js';
import type { CliContext } from './context.js';
import { EXIT } from './errors.js';
import { showRef } from './format.js';
import { LogPrinter } from './log-format.js';
import { logEvents, logsSoFar, type LogEvent } from './log-source.js';
import { parseRef } from './refs.js';

export interface LogsOptions extends ApiCommandOptions {
  readonly follow?: boolean | undefined;
}

export function registerLogs(program: Command, context: CliContext): void {
  apiOptions(program.command('logs').argument('<ref>', 'agent:<runId>, cloud:<taskId>, or a bare run ID'))
    .description("Print a run's or task's logs; --follow streams them until the task ends")
    .option('--follow', 'keep streaming new events until the task ends (Ctrl-C stops following; the task goes on)')
    .addHelpText(
      'after',
      examples([
        'taskguard logs agent:3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f',
        'taskguard logs cloud:9qQe2F8Z_nXx9-eJA0BD6 --follow',
        'taskguard logs 3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f --follow --json   # JSON Lines, one event per line',
      ]),
    )
    .action(async (ref: string, options: LogsOptions) => {
      context.exitCode = await logs(context, ref, options);
    });
}

export async function logs(context: CliContext, text: string, options: LogsOptions): Promise<number> {
  const ref = parseRef(text);
  const clients = clientsFor(context, [ref], options);
  if (options.follow === true) return followLogs(context, clients, ref);
  const { status, events } = await logsSoFar(clients, ref);
  if (context.json) {
    context.printJson({ ref: showRef(ref), kind: ref.kind, id: ref.id, status, events: events.map(eventJson) });
    return EXIT.ok;
  }
  const printer = new LogPrinter((line) => context.print(line), context.colors('out'));
  for (const event of events) show(printer, event);
  printer.flush();
  const colors = context.colors('out');
  context.print(colors.dim(`${showRef(ref)}: ${events.length} event${events.length === 1 ? '' : 's'}${status === null ? '' : `, status ${status}`}`));
  return EXIT.ok;
}

/** Streams until the task ends; with `--json`, one JSON object per event and line (JSON Lines). */
async function followLogs(context: CliContext, clients: Clients, ref: TaskRef): Promise<number> {
  const stop = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    stop.abort();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) context.signals.on(signal, onSignal);
  const printer = new LogPrinter((line) => context.print(line), context.colors('out'));
  try {
    await printLogStream(clients, ref, stop.signal, (event) => {
      if (context.json) context.io.stdout.write(`${JSON.stringify(eventJson(event))}\n`);
      else show(printer, event);
    });
  } finally {
    printer.flush();
    for (const signal of ['SIGINT', 'SIGTERM'] as const) context.signals.off(signal, onSignal);
  }
  if (interrupted === undefined) return EXIT.ok;
  context.note(`${interrupted}: stopped following ${showRef(ref)}; the task was left running`);
  return EXIT.cancelled;
}

/**
 * Hands every event of the task's log stream to `onEvent` until the stream ends (with the task) or
 * `signal` aborts; an abort is not an error.
 */
export async function printLogStream(clients: Clients, ref: TaskRef, signal: AbortSignal, onEvent: (event: LogEvent) => void): Promise<void> {
  try {
    for await (const event of logEvents(clients, ref, signal)) onEvent(event);
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/** Shows one event on `printer`. */
export function show(printer: LogPrinter, event: LogEvent): void {
  if (event.kind === 'agent') printer.agent(event.data);
  else printer.cloud(event.event, event.data);
}

function eventJson(event: LogEvent): unknown {
  return event.kind === 'agent' ? event.data : { event: event.event, data: event.data };
}
