import type FakeTimers from '@sinonjs/fake-timers';
import type { NormalizedStatus, TaskState } from '../../src/index.js';
import { ScriptedBackend } from './fake-backend.js';

/** One list page as the backend served it. */
export interface ListCall {
  readonly at: number;
  /** The page's number within its sweep, from 1. */
  readonly page: number;
}

/**
 * A {@link ScriptedBackend} with a list endpoint (`listStatuses`), 100 tasks a page, each page after
 * `listLatencyMs` on the fake clock. By default it lists the running tasks only, as the built-in
 * backends do; knobs make it lie, leave tasks out, list tasks of others, fail or answer garbage.
 */
export class ListingBackend extends ScriptedBackend {
  /** Every page served, in order. */
  readonly listCalls: ListCall[] = [];
  /** `live`: only running tasks (a task that ended is left out); `all`: every task with its word. */
  listMode: 'live' | 'all' = 'live';
  listLatencyMs = 10;
  /** While set, every page throws it. */
  listError: unknown;
  /** While set, every page yields this instead of a Map. */
  listGarbage: unknown;
  /** What the list says of a task instead of the truth. */
  readonly listSays = new Map<string, TaskState>();
  /** Tasks the list leaves out. */
  readonly unlisted = new Set<string>();
  /** Running tasks of someone else, listed before ours. */
  foreign = 0;

  readonly #clock: FakeTimers.Clock;

  constructor(fake: FakeTimers.Clock) {
    super(fake);
    this.#clock = fake;
  }

  listStatuses = ({ signal }: { signal: AbortSignal }): AsyncIterable<ReadonlyMap<string, NormalizedStatus>> => this.#pages(signal);

  /** Status requests so far, of one task or of all, from `since` on. */
  statusCalls(id?: string, since = 0): number {
    return this.calls.filter((call) => call.op === 'status' && (id === undefined || call.id === id) && call.at >= since).length;
  }

  async *#pages(signal: AbortSignal): AsyncGenerator<ReadonlyMap<string, NormalizedStatus>> {
    for (let page = 1; ; page++) {
      await this.#wait(signal);
      this.listCalls.push({ at: this.#clock.now, page });
      if (this.listError !== undefined) throw this.listError;
      if (this.listGarbage !== undefined) {
        yield this.listGarbage as ReadonlyMap<string, NormalizedStatus>;
        continue;
      }
      const entries = this.#listed();
      yield new Map(entries.slice((page - 1) * 100, page * 100));
      if (page * 100 >= entries.length) return;
    }
  }

  #listed(): [string, NormalizedStatus][] {
    const entries: [string, NormalizedStatus][] = Array.from({ length: this.foreign }, (_, i) => [`foreign-${i}`, { state: 'running', raw: 'running' }]);
    for (const [id, task] of this.tasks) {
      if (this.unlisted.has(id)) continue;
      const ended = task.state === 'running' && this.#clock.now >= task.finishAt;
      const said = this.listSays.get(id);
      const state = said ?? (ended ? task.outcome : task.state);
      if (this.listMode === 'live' && state !== 'running') continue;
      entries.push([id, { state, raw: said ?? (ended ? task.outcome : task.raw) }]);
    }
    return entries;
  }

  #wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#clock.clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = this.#clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, this.listLatencyMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
