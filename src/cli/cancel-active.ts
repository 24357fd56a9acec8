/**
 * `cancel-all --active`: the account's active tasks, found by listing (agent runs queued or running,
 * cloud tasks in the `active` group), and the y/N question asked on a terminal before they are
 * cancelled. Without a terminal to ask on, `--yes` is required: a script never cancels a whole account
 * by accident.
 * @module
 */
import { createInterface } from 'node:readline';
import type { TaskRef } from '../refs.js';
import type { CancelAllOptions } from './cancel-all.js';
import type { CliContext } from './context.js';
import { DeclinedError, UsageError } from './errors.js';
import { showRef } from './format.js';
import { listTasks, planListing, type Listing } from './listing.js';

/** How many of the tasks the question lists by name. */
const SHOWN = 20;

/** The active tasks to cancel; rejects (exit 2) before any request when it could not ask and `--yes` is missing. */
export async function activeRefs(context: CliContext, args: readonly string[], options: CancelAllOptions): Promise<TaskRef[]> {
  if (args.length > 0) throw new UsageError('cancel-all --active takes no refs: it lists the active tasks itself');
  const ask = options.yes !== true;
  if (ask && context.io.stdin.isTTY !== true) {
    throw new UsageError('cancel-all --active cancels every active task of the account and asks first, but stdin is not a terminal: pass --yes to cancel them without asking');
  }
  const plan = planListing(context, options.kind, 'active');
  for (const { kind, reason } of plan.skipped) context.note(`${kind}: not listed (${reason})`);
  const listings = await listTasks(context, options, plan, Number.MAX_SAFE_INTEGER);
  const refs = listings.flatMap((listing) => listing.tasks.map((task) => task.ref));
  if (ask && refs.length > 0 && !(await confirm(context, listings, refs.length))) {
    throw new DeclinedError('not confirmed: nothing was cancelled (answer y to cancel)');
  }
  return refs;
}

async function confirm(context: CliContext, listings: readonly Listing[], total: number): Promise<boolean> {
  const colors = context.colors('err');
  const tasks = listings.flatMap((listing) => listing.tasks);
  context.note(`active tasks of the account (${counted(listings)}):`);
  for (const task of tasks.slice(0, SHOWN)) context.note(`  ${showRef(task.ref)}  ${colors.cyan(task.status)}`);
  if (tasks.length > SHOWN) context.note(colors.dim(`  … and ${tasks.length - SHOWN} more`));
  context.io.stderr.write(`Cancel ${total === 1 ? 'this task' : `these ${total} tasks`}? [y/N] `);
  const lines = createInterface({ input: context.io.stdin, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      lines.once('line', resolve);
      lines.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    lines.close();
  }
}

function counted(listings: readonly Listing[]): string {
  return listings
    .map(({ kind, tasks }) => `${tasks.length} ${kind === 'agent' ? 'agent run' : 'cloud task'}${tasks.length === 1 ? '' : 's'}`)
    .join(', ');
}
