/**
 * `taskguard cancel-all [refs...]`: cancels agent runs and stops cloud tasks in bulk through
 * `TaskManager.cancelMany` (allSettled semantics, `--concurrency` at once), then prints a summary.
 * Refs come from the arguments or, when there are none, from stdin, one per line; with `--active`, from
 * listing the account (see `cancel-active.ts`).
 * @module
 */
import type { Command } from 'commander';
import { TaskManager } from '../manager/task-manager.js';
import type { BulkCancelEntry, BulkCancelResult } from '../manager/types.js';
import type { TaskRef } from '../refs.js';
import { BulkProgress } from './bulk-progress.js';
import { activeRefs } from './cancel-active.js';
import { clientsFor, type ApiCommandOptions } from './clients.js';
import { apiOptions, examples, intArg } from './common.js';
import type { CliContext } from './context.js';
import { EXIT, UsageError, errorDocument, errorLine } from './errors.js';
import { showRef, table } from './format.js';
import { kindArg, type ListKind } from './listing.js';
import { parseRef, parseRefLines, uniqueRefs } from './refs.js';

export interface CancelAllOptions extends ApiCommandOptions {
  readonly concurrency: number;
  readonly active?: boolean | undefined;
  readonly kind?: ListKind | undefined;
  readonly yes?: boolean | undefined;
}

export function registerCancelAll(program: Command, context: CliContext): void {
  apiOptions(program.command('cancel-all').argument('[refs...]', 'agent:<runId>, cloud:<taskId> or bare run IDs; none: read stdin, one per line'))
    .description("Cancel many runs and tasks at once (from arguments, stdin, or --active: the account's); exit 1 if any failed")
    .option('--concurrency <n>', 'most cancel/stop requests in flight at once', intArg(1, 1_000), 16)
    .option('--active', "instead of refs: every active (queued or running) task of the account, found by listing")
    .option('--kind <kind>', 'with --active: only agent runs or only cloud tasks (default: every kind whose key is set)', kindArg)
    .option('--yes', 'with --active: cancel without asking (required when stdin is not a terminal)')
    .addHelpText(
      'after',
      examples([
        'taskguard cancel-all agent:3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f cloud:9qQe2F8Z_nXx9-eJA0BD6',
        'taskguard cancel-all < refs.txt            # one ref per line; blank lines and # comments skipped',
        'grep -o "agent:[0-9a-f-]*" worker.log | taskguard cancel-all --concurrency 4 --json',
        'taskguard cancel-all --active              # lists them and asks y/N first',
        'taskguard cancel-all --active --kind cloud --yes',
      ]),
    )
    .action(async (refs: string[], options: CancelAllOptions) => {
      context.exitCode = options.active === true ? await cancelActive(context, refs, options) : await cancelAll(context, refs, options);
    });
}

export async function cancelAll(context: CliContext, args: readonly string[], options: CancelAllOptions): Promise<number> {
  if (options.kind !== undefined || options.yes === true) throw new UsageError('--kind and --yes go with --active (refs given or read from stdin are cancelled as they are)');
  const listed = args.length > 0 ? args.map((arg) => parseRef(arg)) : parseRefLines(await readStdin(context));
  const { refs, duplicates } = uniqueRefs(listed);
  return cancelRefs(context, refs, options, { duplicates, none: 'nothing to cancel: no refs given' });
}

/** `--active`: the account's active tasks, listed and (unless `--yes`) confirmed, then cancelled. */
async function cancelActive(context: CliContext, args: readonly string[], options: CancelAllOptions): Promise<number> {
  return cancelRefs(context, await activeRefs(context, args, options), options, { duplicates: 0, none: 'nothing to cancel: no active tasks' });
}

/** Cancels `refs` (distinct) through `TaskManager.cancelMany`, with progress, and prints the summary. */
async function cancelRefs(context: CliContext, refs: readonly TaskRef[], options: CancelAllOptions, report: { readonly duplicates: number; readonly none: string }): Promise<number> {
  const clients = refs.length === 0 ? {} : clientsFor(context, refs, options);
  const progress = new BulkProgress(context, refs.length);
  const manager = new TaskManager({ ...clients, concurrency: options.concurrency });
  const onSettled = (entry: BulkCancelEntry): void =>
    progress.done(entry.ref, entry.status === 'fulfilled' ? { result: entry.value.result, status: entry.value.status.raw } : { result: 'failed', error: entry.reason });
  let result: BulkCancelResult;
  try {
    result = await manager.cancelMany(refs, { concurrency: options.concurrency, onSettled });
  } finally {
    progress.stop();
    manager.close();
  }
  printSummary(context, result, report);
  return result.counts.failed > 0 ? EXIT.failure : EXIT.ok;
}

async function readStdin(context: CliContext): Promise<string> {
  const { stdin } = context.io;
  if (stdin.isTTY === true) context.note('reading refs from stdin, one per line; end with Ctrl-D');
  let text = '';
  stdin.setEncoding('utf8');
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : String(chunk);
  return text;
}

function printSummary(context: CliContext, { results, counts }: BulkCancelResult, { duplicates, none }: { readonly duplicates: number; readonly none: string }): void {
  if (context.json) {
    context.printJson({
      total: results.length,
      counts,
      duplicates,
      results: results.map((entry) => ({
        ref: showRef(entry.ref),
        kind: entry.ref.kind,
        id: entry.ref.id,
        ...(entry.status === 'fulfilled'
          ? { result: entry.value.result, status: entry.value.status.raw }
          : { result: 'failed', ...(errorDocument(entry.reason, context.env) as { error: object }) }),
      })),
    });
    return;
  }
  const colors = context.colors('out');
  if (results.length === 0) {
    context.print(none);
    return;
  }
  const rows = [
    ['result', 'refs'],
    ['cancelled', String(counts.cancelled)],
    ['already done', String(counts.alreadyDone)],
    ['failed', String(counts.failed)],
    ['total', String(results.length)],
  ];
  const paint = (row: number, _column: number, cell: string) =>
    row === 1 && counts.cancelled > 0 ? colors.green(cell) : row === 3 && counts.failed > 0 ? colors.red(cell) : cell;
  context.print();
  for (const line of table(rows, ['left', 'right'], paint)) context.print(line);
  if (duplicates > 0) context.print(colors.dim(`(${duplicates} repeated ref${duplicates === 1 ? '' : 's'} cancelled once)`));
  const failures = results.filter((entry) => entry.status === 'rejected');
  if (failures.length > 0) {
    context.print();
    const failureRows = [['failed ref', 'error'], ...failures.map((entry) => [showRef(entry.ref), entry.status === 'rejected' ? errorLine(entry.reason, context.env) : ''])];
    for (const line of table(failureRows, [], (row, column, cell) => (row > 0 && column === 0 ? colors.red(cell) : cell))) context.print(line);
  }
}
