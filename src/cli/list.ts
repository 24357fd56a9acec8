/**
 * `taskguard list [--kind agent|cloud] [--status s] [--limit n]`: the account's runs and tasks, from
 * the list endpoints of the APIs, paged up to `--limit` of each kind.
 * @module
 */
import type { Command } from 'commander';
import type { ApiCommandOptions } from './clients.js';
import { apiOptions, examples, intArg } from './common.js';
import type { CliContext } from './context.js';
import { paintOutcome, showRef, table } from './format.js';
import { kindArg, listTasks, planListing, type ListedTask, type ListKind } from './listing.js';

export interface ListOptions extends ApiCommandOptions {
  readonly kind?: ListKind | undefined;
  readonly status?: string | undefined;
  readonly limit: number;
}

export function registerList(program: Command, context: CliContext): void {
  apiOptions(program.command('list'))
    .description("List the account's agent runs and cloud tasks (both kinds when both keys are set)")
    .option('--kind <kind>', 'agent or cloud; default: every kind whose key is set', kindArg)
    .option('--status <status>', 'only this status: active, completed, failed, cancelled/stopped, or an API word (queued, running, …)')
    .option('--limit <n>', 'most tasks of each kind, paged 100 at a time', intArg(1, 100_000), 50)
    .addHelpText(
      'after',
      examples(['taskguard list', 'taskguard list --kind agent --status running', 'taskguard list --status active --limit 500 --json']) +
        '\n--status active is queued and running runs, and cloud tasks in progress; a word only one API knows lists that kind only.\n',
    )
    .action(async (options: ListOptions) => {
      context.exitCode = await list(context, options);
    });
}

export async function list(context: CliContext, options: ListOptions): Promise<number> {
  const plan = planListing(context, options.kind, options.status);
  const listings = await listTasks(context, options, plan, options.limit);
  const tasks = listings.flatMap((listing) => listing.tasks);
  if (context.json) {
    context.printJson({
      kinds: listings.map((listing) => listing.kind),
      status: options.status ?? null,
      limit: options.limit,
      hasMore: Object.fromEntries(listings.map((listing) => [listing.kind, listing.hasMore])),
      skipped: plan.skipped,
      tasks: tasks.map((task) => ({ ref: showRef(task.ref), kind: task.ref.kind, id: task.ref.id, status: task.status, state: task.state, createdAt: task.createdAt, task: task.task })),
    });
    return 0;
  }
  const colors = context.colors('out');
  for (const { kind, reason } of plan.skipped) context.note(colors.dim(`${kind}: not listed (${reason})`));
  if (tasks.length === 0) {
    const what = listings.map((listing) => (listing.kind === 'agent' ? 'agent runs' : 'cloud tasks')).join(' or ');
    context.print(options.status === undefined ? `no ${what}` : `no ${what} with status ${options.status}`);
    return 0;
  }
  const rows = [['ref', 'status', 'created', 'prompt / model'], ...tasks.map((task) => [showRef(task.ref), task.status, shortTime(task.createdAt), oneLine(task.detail)])];
  const paint = (row: number, column: number, cell: string): string => {
    const task = tasks[row - 1];
    if (row === 0 || column !== 1 || task === undefined) return cell;
    return task.state === 'pending' || task.state === 'running' ? colors.cyan(cell) : paintOutcome(colors, task.state, cell);
  };
  for (const line of table(rows, [], paint)) context.print(line);
  for (const listing of listings) {
    if (listing.hasMore) context.print(colors.dim(`more ${listing.kind === 'agent' ? 'agent runs' : 'cloud tasks'} than --limit ${options.limit}: raise --limit to see them`));
  }
  return 0;
}

/** `2025-01-31T12:00:00.000Z` as `2025-01-31 12:00:00Z`; anything else as it is. */
function shortTime(iso: ListedTask['createdAt']): string {
  if (iso === null) return '';
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return match ? `${match[1]} ${match[2]}Z` : iso;
}

function oneLine(text: string | null, max = 60): string {
  if (text === null) return '';
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
