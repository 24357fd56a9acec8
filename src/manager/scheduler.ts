import type { Clock } from './clock.js';
import { MinHeap } from './heap.js';

/** What the scheduler calls back into. */
export interface SchedulerHooks<T> {
  /** An entry's time came and it may run (a poll, or a step of a cancel). */
  onDue(value: T): void;
  /** A deadline passed. */
  onDeadline(value: T): void;
  /** False for an entry that was superseded or whose task has settled. */
  isLive(value: T, kind: 'due' | 'deadline'): boolean;
  /** False while no request slot is free: due entries then wait for a release. */
  canDispatch(): boolean;
  /** How many tasks may have live entries: bounds the superseded entries a heap may hold. */
  liveCount(): number;
}

/** Below this size a heap is never compacted: superseded entries are then too few to matter. */
const COMPACT_MIN_SIZE = 1_024;

/** setTimeout's longest delay; a later deadline re-arms when this passes. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * One timer for a whole manager, whatever the number of tasks: two min-heaps (next due request,
 * deadlines) and a single armed timer for the earliest entry. Entries are never removed in place; a
 * superseded one is skipped when it reaches the top (`isLive`).
 */
export class Scheduler<T> {
  readonly #clock: Clock;
  readonly #hooks: SchedulerHooks<T>;
  readonly #due = new MinHeap<T>();
  /** Steps of cancels: neither a 429's pause nor a full limiter holds them back (they queue in it). */
  readonly #urgent = new MinHeap<T>();
  readonly #deadlines = new MinHeap<T>();
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  #pausedUntil = 0;
  #pumping = false;

  constructor(clock: Clock, hooks: SchedulerHooks<T>) {
    this.#clock = clock;
    this.#hooks = hooks;
  }

  /** Whether the timer is armed (there is at most one). */
  get armed(): boolean {
    return this.#timer !== undefined;
  }

  /** Entries waiting in the heaps, live or superseded. */
  get size(): number {
    return this.#due.size + this.#urgent.size + this.#deadlines.size;
  }

  /**
   * Runs `value` through `onDue` at `at` (ms since the epoch) or as soon after as a slot is free. An
   * `urgent` entry (a step of a cancel) runs at `at` whatever the pause and the load.
   */
  schedule(value: T, at: number, urgent = false): void {
    const heap = urgent ? this.#urgent : this.#due;
    heap.push(at, value);
    this.#compact(heap, 'due');
    this.#rearm();
  }

  /** Calls `onDeadline` at `at`, whatever the load. */
  deadline(value: T, at: number): void {
    this.#deadlines.push(at, value);
    this.#compact(this.#deadlines, 'deadline');
    this.#rearm();
  }

  /** Holds every due entry but the urgent ones back until `at` (a server's `Retry-After` applies to the whole manager). */
  pauseUntil(at: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, at);
    this.#rearm();
  }

  /** Dispatches whatever is due, then re-arms the timer. Called by the timer and on every slot release. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const now = this.#clock.now();
      for (let top = this.#deadlines.peek(); top && top.at <= now; top = this.#deadlines.peek()) {
        this.#deadlines.pop();
        if (this.#hooks.isLive(top.value, 'deadline')) this.#hooks.onDeadline(top.value);
      }
      for (let top = this.#urgent.peek(); top && top.at <= now; top = this.#urgent.peek()) {
        this.#urgent.pop();
        if (this.#hooks.isLive(top.value, 'due')) this.#hooks.onDue(top.value);
      }
      if (this.#pausedUntil <= now) {
        for (let top = this.#due.peek(); top && top.at <= now && this.#hooks.canDispatch(); top = this.#due.peek()) {
          this.#due.pop();
          if (this.#hooks.isLive(top.value, 'due')) this.#hooks.onDue(top.value);
        }
      }
    } finally {
      this.#pumping = false;
    }
    this.#rearm();
  }

  /** Drops every entry and disarms the timer. */
  clear(): void {
    this.#due.clear();
    this.#urgent.clear();
    this.#deadlines.clear();
    this.#disarm();
  }

  #rearm(): void {
    if (this.#pumping) return;
    this.#dropStale(this.#due, 'due');
    this.#dropStale(this.#urgent, 'due');
    this.#dropStale(this.#deadlines, 'deadline');
    const dueAt = this.#due.peek()?.at;
    const next = Math.min(
      this.#deadlines.peek()?.at ?? Number.POSITIVE_INFINITY,
      this.#urgent.peek()?.at ?? Number.POSITIVE_INFINITY,
      dueAt !== undefined && this.#hooks.canDispatch() ? Math.max(dueAt, this.#pausedUntil) : Number.POSITIVE_INFINITY,
    );
    if (next === this.#timerAt) return;
    this.#disarm();
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timerAt = next;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.pump();
    }, delay);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  /**
   * A finished task's deadline (an hour away, say) would keep its entry, and through it the task's
   * record, until that time: once superseded entries outnumber the live ones, sweep them out.
   */
  #compact(heap: MinHeap<T>, kind: 'due' | 'deadline'): void {
    if (heap.size > COMPACT_MIN_SIZE && heap.size > 2 * this.#hooks.liveCount()) heap.retain((value) => this.#hooks.isLive(value, kind));
  }

  #dropStale(heap: MinHeap<T>, kind: 'due' | 'deadline'): void {
    for (let top = heap.peek(); top && !this.#hooks.isLive(top.value, kind); top = heap.peek()) heap.pop();
  }
}
