import type { Emit } from './emit.js';
import type { Lifecycle } from './lifecycle.js';
import type { ResolvedManagerOptions } from './options.js';
import type { ManagerParts } from './parts.js';
import type { TaskManager } from './task-manager.js';
import type { BulkCancelResult } from './types.js';

/**
 * `cancelAll()` and the workers that share a store: with `scope: 'fleet'` it asks every live one to
 * cancel its tasks and claims the tasks of the dead ones; the same request from another is heard here.
 * @module
 */

/** One manager's link to the other workers of its store. */
export class Fleet {
  readonly #options: ResolvedManagerOptions;
  readonly #emit: Emit;
  readonly #lifecycle: Pick<Lifecycle, 'state'>;
  readonly #manager: Pick<TaskManager, 'active' | 'cancelAll' | 'cancelMany' | 'recover'>;
  readonly #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;

  /** Subscribes to the store's messages once it is open, if the store has them. */
  constructor(parts: Pick<ManagerParts, 'options' | 'registry' | 'emit' | 'lifecycle' | 'manager'>) {
    this.#options = parts.options;
    this.#emit = parts.emit;
    this.#lifecycle = parts.lifecycle;
    this.#manager = parts.manager;
    const { store } = parts.options;
    if (store.subscribe) {
      const subscribe = store.subscribe.bind(store);
      // A store that fails to open is reported once, by the registry; only a failed subscribe is ours to report.
      this.#unsubscribe = parts.registry.ready.then(
        () =>
          subscribe((message) => this.#onMessage(message)).catch((error: unknown) => {
            this.#emit('error', { error });
            return undefined;
          }),
        () => undefined,
      );
    }
  }

  /** What `TaskManager.cancelAll()` does (documented there). */
  async cancelAll(options: { readonly scope?: 'worker' | 'fleet' }): Promise<BulkCancelResult> {
    const manager = this.#manager;
    if (options.scope !== 'fleet') return manager.cancelMany(manager.active());
    const { store, workerId } = this.#options;
    if (store.publish) await store.publish({ type: 'cancelAll', from: workerId }).catch((error: unknown) => this.#emit('error', { error }));
    const own = manager.active();
    const orphans = await manager.recover({ policy: 'resume' }).catch((error: unknown) => {
      this.#emit('error', { error });
      return undefined;
    });
    const refs = [...own, ...(orphans?.claimed ?? [])];
    return manager.cancelMany(refs);
  }

  /** Ends the subscription; its failure is reported, and the store closes all the same. */
  async leave(): Promise<void> {
    const unsubscribe = await this.#unsubscribe;
    await unsubscribe?.().catch((error: unknown) => this.#emit('error', { error }));
  }

  #onMessage(message: { readonly type: string; readonly from: string }): void {
    if (message.type !== 'cancelAll' || message.from === this.#options.workerId || this.#lifecycle.state !== 'open') return;
    void this.#manager.cancelAll();
  }
}
