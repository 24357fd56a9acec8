import { refKey, type TaskRef } from '../refs.js';
import type { StoredTask } from '../stores/types.js';
import type { ReconciledEvent } from './events.js';
import { MANAGER_DEFAULTS } from './options.js';
import { reconcile } from './reconcile.js';
import type { StartContext } from './start.js';
import type { TaskBackend } from './types.js';

/**
 * A dead worker's create that never answered (its intent, claimed by `recover()`): looked up in the
 * kind's list like a lost answer of `start()`, whatever it made tracked with the intended deadline, the
 * intent forgotten. Reconciliation is on for recovery even with `reconcile: false`: an intent can only
 * be settled by looking.
 */
export async function reconcileIntent(
  context: StartContext,
  backend: TaskBackend,
  intent: StoredTask,
  track: (ref: TaskRef, deadline: number | null) => void,
): Promise<ReconciledEvent> {
  const { kind } = intent;
  const { tracker, signal } = context;
  const settings = context.options.reconcile || MANAGER_DEFAULTS.reconcile;
  const { outcome, found } = await reconcile({
    backend,
    kind,
    fingerprint: intent.intent!.fingerprint,
    sentAt: intent.intent!.sentAt,
    skewMs: settings.skewMs,
    settleMs: settings.settleMs,
    maxPages: settings.maxPages,
    run: (call) => tracker.limited(backend, call, signal),
    signal,
    owned: (id) => tracker.get(refKey({ kind, id })) !== undefined,
    promptCache: context.promptCache,
  });
  const refs = found.map((task) => ({ kind, id: task.id }));
  for (const ref of refs) track(ref, intent.deadline);
  const placeholder = { kind, id: intent.id };
  context.registry.remove(placeholder, refKey(placeholder));
  const event: ReconciledEvent = { kind, outcome, refs };
  context.onReconciled(event);
  return event;
}
