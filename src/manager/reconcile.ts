import { createHash } from 'node:crypto';
import pRetry from 'p-retry';
import { isTransient } from '../clients/policy.js';
import { sleep } from '../util/sleep.js';
import type { BackendCallOptions, CreatedTask, TaskBackend } from './types.js';

/**
 * Reconciliation: after a create whose answer was lost, find the task it may have made instead of
 * guessing. Neither API has an idempotency key, so the only evidence is the kind's list: tasks created
 * since the request left (less a clock-skew allowance) that nobody here owns, whose prompt matches.
 * @module
 */

const PROMPT_CACHE_LIMIT = 10_000;
/** Looks at the list tried again after a transient failure, each after the client's own retries. */
const LOOK_RETRIES = 3;

/** How `start()` found out what its lost create did. */
export type ReconcileOutcome = 'adopted' | 'notCreated' | 'ambiguous';

/** What one reconciliation needs. */
export interface ReconcilePlan {
  readonly backend: TaskBackend;
  readonly kind: string;
  /** SHA-256 of the prompt (see {@link fingerprintOf}). */
  readonly fingerprint: string;
  /** When the create request left, in milliseconds since the epoch. */
  readonly sentAt: number;
  readonly skewMs: number;
  /** How long to wait before the second look, for a list that lags behind the creates. */
  readonly settleMs: number;
  readonly maxPages: number;
  /** Runs one backend call through the manager's limiter, with its lifetime signal. */
  readonly run: <T>(call: (options: BackendCallOptions) => Promise<T>) => Promise<T>;
  /** The manager's lifetime signal (for the wait between the two looks). */
  readonly signal: AbortSignal;
  /** True for a task some record of this manager already owns: never adopted twice. */
  readonly owned: (id: string) => boolean;
  /** Fingerprints of agent prompts already read: a run's prompt never changes, so it is read once. */
  readonly promptCache: Map<string, readonly string[]>;
}

/** The fingerprint of a prompt: what an intent stores instead of the prompt itself. */
export function fingerprintOf(prompt: string): string {
  return createHash('sha256').update(prompt.trim()).digest('hex');
}

/** The prompt of a create body: `prompt` (or the agent API's alias `message`), if it is a string. */
export function promptOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { prompt, message } = body as { prompt?: unknown; message?: unknown };
  if (typeof prompt === 'string') return prompt;
  return typeof message === 'string' ? message : undefined;
}

/**
 * Looks twice (the second time after `settleMs`) for unowned tasks created since the request left whose
 * prompt matches. One match: adopted; several: ambiguous (all are returned, none may go unwatched);
 * none on both looks: not created.
 */
export async function reconcile(plan: ReconcilePlan): Promise<{ readonly outcome: ReconcileOutcome; readonly found: readonly CreatedTask[] }> {
  const { backend } = plan;
  const listCreated = backend.listCreated?.bind(backend);
  if (!listCreated) return { outcome: 'notCreated', found: [] };
  for (let look = 0; look < 2; look++) {
    if (look > 0) await sleep(plan.settleMs, plan.signal);
    // A look that fails is looked again (beyond the client's own retries): giving up here would leave
    // a task that may exist unwatched, or make start() reject for a task it did create.
    const found = await pRetry(() => lookOnce(listCreated, plan), {
      retries: LOOK_RETRIES,
      minTimeout: 200,
      signal: plan.signal,
      shouldRetry: ({ error }) => isTransient(error),
    });
    if (found.length > 0) return { outcome: found.length === 1 ? 'adopted' : 'ambiguous', found: byAge(found) };
  }
  return { outcome: 'notCreated', found: [] };
}

async function lookOnce(listCreated: NonNullable<TaskBackend['listCreated']>, plan: ReconcilePlan): Promise<CreatedTask[]> {
  const listed = await plan.run((options) => listCreated(plan.sentAt - plan.skewMs, { ...options, maxPages: plan.maxPages }));
  const found: CreatedTask[] = [];
  for (const task of listed) {
    if (plan.owned(task.id)) continue;
    if (await matches(task, plan)) found.push(task);
  }
  return found;
}

async function matches(task: CreatedTask, plan: ReconcilePlan): Promise<boolean> {
  if (task.prompt !== undefined) return fingerprintOf(task.prompt) === plan.fingerprint;
  const cacheKey = `${plan.kind}:${task.id}`;
  let fingerprints = plan.promptCache.get(cacheKey);
  if (!fingerprints) {
    const promptsOf = plan.backend.promptsOf?.bind(plan.backend);
    if (!promptsOf) return false;
    fingerprints = (await plan.run((options) => promptsOf(task.id, options))).map(fingerprintOf);
    // A long-lived manager must not keep every run it ever looked at.
    if (plan.promptCache.size >= PROMPT_CACHE_LIMIT) plan.promptCache.clear();
    plan.promptCache.set(cacheKey, fingerprints);
  }
  return fingerprints.includes(plan.fingerprint);
}

/** Oldest first: with duplicates, the first one made is the one kept. */
function byAge(tasks: CreatedTask[]): CreatedTask[] {
  return tasks.sort((a, b) => (a.createdAt ?? Number.POSITIVE_INFINITY) - (b.createdAt ?? Number.POSITIVE_INFINITY));
}
