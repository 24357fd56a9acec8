/**
 * `taskguard fleet --redis <url> [--prefix p]`: the registry a fleet of workers shares through
 * `RedisStore`, read-only — every worker with its lease and tasks, each task's status and deadline (or
 * the create still in flight, for an intent), and the orphans (tasks whose worker's lease has expired,
 * waiting for a `recover()`).
 * @module
 */
import type { Command } from 'commander';
import { connectOwn, quitQuietly, redactUrl } from '../stores/redis-connection.js';
import { readRegistry, type OwnerSnapshot, type RegistrySnapshot } from '../stores/redis-snapshot.js';
import { examples, jsonOption } from './common.js';
import type { CliContext } from './context.js';
import { formatDuration } from './durations.js';
import { envValue, REDIS_URL_ENV } from './env.js';
import { UsageError } from './errors.js';
import { table } from './format.js';

export interface FleetOptions {
  readonly json?: boolean | undefined;
  readonly redis?: string | undefined;
  readonly prefix: string;
}

export function registerFleet(program: Command, context: CliContext): void {
  jsonOption(program.command('fleet'))
    .description("Show a RedisStore fleet's shared registry: tasks by worker, lease age, deadlines, orphans (read-only)")
    .option('--redis <url>', `redis:// or rediss:// URL of the registry (env ${REDIS_URL_ENV}, better when the URL holds a password)`)
    .option('--prefix <prefix>', "the workers' RedisStore prefix", 'taskguard:')
    .addHelpText('after', examples(['taskguard fleet --redis redis://127.0.0.1:6379', `${REDIS_URL_ENV}=rediss://:secret@redis.internal:6380 taskguard fleet --prefix 'jobs:' --json`]))
    .action(async (options: FleetOptions) => {
      context.exitCode = await fleet(context, options);
    });
}

export async function fleet(context: CliContext, options: FleetOptions): Promise<number> {
  const url = options.redis ?? envValue(context.env, REDIS_URL_ENV);
  if (url === undefined) throw new UsageError(`--redis <url> or ${REDIS_URL_ENV} is required: the redis:// URL the workers' RedisStore uses`);
  if (!URL.canParse(url) || !/^rediss?:$/.test(new URL(url).protocol)) throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${redactUrl(url)}`);
  if (options.prefix.length > 256 || /\s/.test(options.prefix)) throw new UsageError('--prefix must be at most 256 characters without spaces');
  const client = await connectOwn(url, 'taskguard:cli:fleet');
  let snapshot: RegistrySnapshot;
  try {
    snapshot = await readRegistry(client, options.prefix);
  } finally {
    await quitQuietly(client);
  }
  const now = Date.now();
  if (context.json) context.printJson(fleetDocument(snapshot, redactUrl(url), now));
  else printFleet(context, snapshot, redactUrl(url), now);
  return 0;
}

function fleetDocument({ prefix, owners }: RegistrySnapshot, redis: string, now: number): object {
  const tasks = owners.flatMap((owner) =>
    owner.tasks.map((task) => ({
      ref: `${task.kind}:${task.id}`,
      kind: task.kind,
      id: task.id,
      worker: owner.owner,
      orphan: owner.lease === null,
      status: task.status,
      intent: task.intent === undefined ? null : { sentAt: new Date(task.intent.sentAt).toISOString() },
      trackedAt: new Date(task.trackedAt).toISOString(),
      trackedForMs: now - task.trackedAt,
      deadline: task.deadline === null ? null : new Date(task.deadline).toISOString(),
      deadlineInMs: task.deadline === null ? null : task.deadline - now,
    })),
  );
  return {
    redis,
    prefix,
    at: new Date(now).toISOString(),
    counts: { workers: owners.length, tasks: tasks.length, orphans: tasks.filter((task) => task.orphan).length },
    workers: owners.map(({ owner, lease, tasks: owned }) => ({
      workerId: owner,
      alive: lease !== null,
      lease: lease === null ? null : { ...lease, ageMs: lease.renewedAt === null ? null : now - lease.renewedAt },
      tasks: owned.length,
    })),
    tasks,
  };
}

function printFleet(context: CliContext, { prefix, owners }: RegistrySnapshot, redis: string, now: number): void {
  const colors = context.colors('out');
  const total = owners.reduce((sum, owner) => sum + owner.tasks.length, 0);
  const orphans = owners.filter((owner) => owner.lease === null).reduce((sum, owner) => sum + owner.tasks.length, 0);
  const orphanText = `${orphans} orphan${orphans === 1 ? '' : 's'}`;
  context.print(
    `registry ${prefix} on ${redis}: ${owners.length} worker${owners.length === 1 ? '' : 's'}, ${total} task${total === 1 ? '' : 's'}, ${orphans > 0 ? colors.red(orphanText) : orphanText}`,
  );
  if (owners.length === 0) {
    context.print(colors.dim('no worker has tasks under this prefix (is --prefix the one the workers use?)'));
    return;
  }
  context.print();
  const workerRows = [['worker', 'lease', 'renewed', 'expires in', 'process', 'tasks'], ...owners.map((owner) => workerRow(owner, now))];
  const paintWorker = (row: number, column: number, cell: string): string => (row > 0 && column === 1 ? (owners[row - 1]?.lease === null ? colors.red(cell) : colors.green(cell)) : cell);
  for (const line of table(workerRows, ['left', 'left', 'left', 'left', 'left', 'right'], paintWorker)) context.print(line);
  if (total === 0) return;
  context.print();
  const tasks = owners.flatMap((owner) => owner.tasks.map((task) => ({ task, owner })));
  const taskRows = [
    ['task', 'worker', 'status', 'tracked for', 'deadline', 'note'],
    ...tasks.map(({ task, owner }) => [
      `${task.kind}:${task.id}`,
      owner.owner,
      task.intent === undefined ? (task.status ?? '') : `creating (sent ${formatDuration(now - task.intent.sentAt)} ago)`,
      formatDuration(now - task.trackedAt),
      task.deadline === null ? 'none' : task.deadline >= now ? `in ${formatDuration(task.deadline - now)}` : `passed ${formatDuration(now - task.deadline)} ago`,
      owner.lease === null ? 'orphan' : '',
    ]),
  ];
  const paintTask = (row: number, column: number, cell: string): string => {
    const entry = tasks[row - 1];
    if (row === 0 || entry === undefined) return cell;
    if (column === 5) return colors.red(cell);
    if (column === 4 && entry.task.deadline !== null && entry.task.deadline < now) return colors.yellow(cell);
    return cell;
  };
  for (const line of table(taskRows, [], paintTask)) context.print(line);
  if (orphans > 0) context.print(colors.dim("orphans wait for a live worker's recover(); `taskguard cancel-all` with their refs stops them now"));
}

function workerRow({ owner, lease, tasks }: OwnerSnapshot, now: number): string[] {
  if (lease === null) return [owner, 'gone', '', '', '', String(tasks.length)];
  return [
    owner,
    'alive',
    lease.renewedAt === null ? '?' : `${formatDuration(now - lease.renewedAt)} ago`,
    lease.ttlMs === null ? 'never' : formatDuration(lease.ttlMs),
    lease.host === null ? '' : `${lease.host}${lease.pid === null ? '' : ` pid ${lease.pid}`}`,
    String(tasks.length),
  ];
}
