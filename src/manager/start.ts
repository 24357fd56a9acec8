import { randomUUID } from 'node:crypto';
import { BlackboxError } from '../errors/classes.js';
import type { TaskRef } from '../refs.js';
import type { ReconciledEvent } from './events.js';
import type { ResolvedManagerOptions } from './options.js';
import { fingerprintOf, promptOf, reconcile } from './reconcile.js';
import type { Registry } from './registry.js';
import type { Tracker } from './tracker.js';
import type { TaskBackend } from './types.js';

/**
 * The create half of `start()`: intent first, then the request, then — when its answer was lost —
 * reconciliation instead of a blind retry. The manager tracks whatever this resolves with.
 * @module
 */

/** How many creates one `start()` sends at most: a resend follows only a "not created" reconciliation. */
const MAX_CREATES = 3;

/** What `start()` needs from its manager. */
export interface StartContext {
  readonly options: ResolvedManagerOptions;
  readonly tracker: Tracker;
  readonly registry: Registry;
  /** The manager's lifetime: aborted by `close()`. */
  readonly signal: AbortSignal;
  /** Prompt fingerprints of agent runs already read while reconciling (shared by every `start()`). */
  readonly promptCache: Map<string, readonly string[]>;
  readonly onReconciled: (event: ReconciledEvent) => void;
}

/** The tasks a create made: one, or several when a reconciliation found duplicates (oldest first). */
export interface CreateResult {
  readonly tasks: readonly { readonly id: string; readonly created: unknown }[];
  readonly reconciled: boolean;
  /** The placeholder record of the intent, to forget once the tasks are tracked. */
  readonly intent: TaskRef | undefined;
}

/** A lost answer: the request may have reached the server, so the task may exist. */
function isAmbiguous(error: unknown): boolean {
  return error instanceof BlackboxError && error.mayHaveBeenApplied;
}

/** Creates a task through `backend`, recording the intent first and reconciling a lost answer. */
export async function createOnce(context: StartContext, kind: string, backend: TaskBackend, body: unknown, deadline: number | undefined): Promise<CreateResult> {
  const { options, tracker, registry, signal } = context;
  const create = backend.create!.bind(backend);
  const prompt = promptOf(body);
  const settings = options.reconcile;
  const canReconcile = settings !== false && prompt !== undefined && backend.listCreated !== undefined;
  const fingerprint = canReconcile ? fingerprintOf(prompt) : undefined;
  let lastError: unknown;
  for (let round = 1; round <= MAX_CREATES; round++) {
    const sentAt = options.clock.now();
    // Durable before the request leaves: a crash between the two leaves a trace for recover().
    const intent = fingerprint !== undefined && !registry.inMemory ? { kind, id: `~${randomUUID()}` } : undefined;
    if (intent) await registry.addIntent(intent, { fingerprint: fingerprint!, sentAt }, deadline);
    try {
      const made = await tracker.limited(backend, (call) => create(body, call), signal);
      return { tasks: [made], reconciled: false, intent };
    } catch (error) {
      if (!canReconcile || !isAmbiguous(error) || signal.aborted) {
        if (intent && !isAmbiguous(error)) registry.remove(intent, `${intent.kind}:${intent.id}`);
        throw error;
      }
      lastError = error;
    }
    // The reconciliation's own failure rejects start(): the intent stays in the store for recover().
    const { outcome, found } = await reconcile({
      backend,
      kind,
      fingerprint: fingerprint!,
      sentAt,
      skewMs: settings.skewMs,
      settleMs: settings.settleMs,
      maxPages: settings.maxPages,
      run: (call) => tracker.limited(backend, call, signal),
      signal,
      owned: (id) => tracker.get(`${kind}:${id}`) !== undefined,
      promptCache: context.promptCache,
    });
    context.onReconciled({ kind, outcome, refs: found.map((task) => ({ kind, id: task.id })) });
    if (outcome !== 'notCreated') return { tasks: found, reconciled: true, intent };
    if (intent) registry.remove(intent, `${intent.kind}:${intent.id}`);
  }
  throw lastError;
}
