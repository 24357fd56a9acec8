import pLimit, { type LimitFunction } from 'p-limit';
import type { AgentCreateTaskBody, AgentCreateTaskResponse } from '../clients/agent-types.js';
import type { CloudCreateTaskBody, CloudTaskResponse } from '../clients/cloud-types.js';
import { GroupClosedError, type GroupCloseReason } from '../errors/group-closed.js';
import { refKey, type TaskKind, type TaskRef } from '../refs.js';
import type { StartedTask, TrackOptions } from './api-types.js';
import type { Clock } from './clock.js';
import { taskCostRate } from './group-budget.js';
import { resolveGroupOptions, taskOptionsWithin, type ResolvedGroupOptions } from './group-options.js';
import { runStart, type QueuedStart } from './group-start.js';
import { GroupTally, type Member } from './group-tally.js';
import type { GroupOptions, GroupResult } from './group-types.js';
import { GroupWatch } from './group-watch.js';
import type { TaskManager } from './task-manager.js';
import type { BulkCancelResult, TaskHandle, TaskOutcome } from './types.js';

/** What a group needs of its manager: public methods only, plus the clock and the default timeout. */
export interface GroupHost {
  readonly manager: Pick<TaskManager, 'start' | 'track' | 'cancel' | 'cancelMany'>;
  readonly clock: Clock;
  readonly defaultTimeoutMs: number | undefined;
}

const FAIL_FAST: ReadonlySet<TaskOutcome> = new Set(['failed', 'error', 'lost']);

/**
 * Tasks under one deadline, one budget and one concurrency limit: a pipeline step that fans out many
 * runs. Made by `manager.group()`; `group.group()` makes a child, whose tasks are the parent's too
 * (its deadline, budget, limit, failFast, `cancel()` and `wait()` cover them). Guide: docs/groups.md.
 *
 * While it has work (tasks running, starts queued or being created) a group watches its deadline, its
 * budget and its signal; idle, it holds no timer and no listener, and notices a passed deadline or an
 * aborted signal when work is added.
 *
 * @example
 * ```ts
 * import type { TaskManager } from 'taskguard';
 * declare const manager: TaskManager;
 * declare const files: string[];
 *
 * const group = manager.group({ timeoutMs: 20 * 60_000, maxConcurrent: 4, failFast: true });
 * for (const file of files) group.start('agent', { prompt: `Add tests for ${file}` }).catch(() => {});
 * const { outcome, counts, taskMinutes } = await group.wait(); // never rejects
 * console.log(outcome, counts.completed, taskMinutes.toFixed(1));
 * ```
 */
export class TaskGroup {
  /** The group's name, if it was given one. */
  readonly name: string | undefined;
  /** The group's deadline (epoch milliseconds): its own, clipped to its parent's; every task's is at most this. */
  readonly deadline: number | undefined;
  readonly #host: GroupHost;
  readonly #parent: TaskGroup | undefined;
  readonly #children = new Set<TaskGroup>();
  readonly #options: ResolvedGroupOptions;
  readonly #limit: LimitFunction | undefined;
  readonly #tally: GroupTally;
  readonly #queued = new Set<QueuedStart<TaskGroup>>();
  /** Starts of the subtree not yet joined: queued, or their create in flight. */
  #starting = 0;
  readonly #watch: GroupWatch;
  #reason: GroupCloseReason | undefined;
  #waiters: ((result: GroupResult) => void)[] = [];

  /** @internal Use `manager.group()` or `group.group()`. */
  constructor(host: GroupHost, options: GroupOptions = {}, parent?: TaskGroup) {
    const now = host.clock.now();
    this.#options = resolveGroupOptions(options, now, parent?.deadline);
    this.#host = host;
    this.#parent = parent;
    this.name = this.#options.name;
    this.deadline = this.#options.deadline;
    this.#limit = this.#options.maxConcurrent === undefined ? undefined : pLimit(this.#options.maxConcurrent);
    this.#tally = new GroupTally(now);
    this.#watch = new GroupWatch(host.clock, { close: (reason) => this.#close(reason), budget: () => this.#onBudgetAlarm() });
    if (parent) parent.#children.add(this);
  }

  /**
   * Why the group takes no new work (`timed_out`, `cancelled`, `failed`, `over_budget`), or
   * `undefined` while it does. A closed parent closes its children.
   */
  get closed(): GroupCloseReason | undefined {
    const parent = this.#parent?.closed;
    return this.#reason ?? this.#lapse() ?? (parent === undefined ? undefined : parent === 'timed_out' ? 'timed_out' : 'cancelled');
  }

  /**
   * Creates a task through the manager and tracks it as the group's, with a deadline no later than
   * the group's. Waits first while `maxConcurrent` of the group's started tasks run. Rejects with
   * {@link GroupClosedError} (nothing created) when the group has closed or closes while it waits; a
   * start whose own `signal` aborts while it waits rejects with the signal's reason.
   */
  start(kind: 'agent', body: AgentCreateTaskBody, options?: TrackOptions): Promise<StartedTask<AgentCreateTaskResponse>>;
  start(kind: 'cloud', body: CloudCreateTaskBody, options?: TrackOptions): Promise<StartedTask<CloudTaskResponse>>;
  start(kind: TaskKind, body: unknown, options?: TrackOptions): Promise<StartedTask<unknown>>;
  async start(kind: TaskKind, body: unknown, options: TrackOptions = {}): Promise<StartedTask<unknown>> {
    const refused = this.#refusal();
    const chain = this.#chain();
    if (refused !== undefined) {
      for (const group of chain) group.#tally.dropped();
      throw new GroupClosedError(refused, this.name);
    }
    const taskOptions = taskOptionsWithin(options, this.deadline, this.#host.defaultTimeoutMs);
    for (const group of chain) group.#starting++;
    TaskGroup.#updateAll(chain);
    return runStart({
      chain,
      limits: chain.flatMap((group) => group.#limit ?? []),
      signal: options.signal,
      enqueue: (queued) => chain.forEach((group) => group.#queued.add(queued)),
      dequeue: (queued) => TaskGroup.#dequeue(queued),
      drop: (queued, error) => TaskGroup.#drop(queued, error, false),
      create: () => this.#host.manager.start(kind, body, taskOptions),
      joined: (handle) => this.#join(handle, chain, true),
      failed: () => {
        for (const group of chain) group.#starting--;
        TaskGroup.#updateAll(chain);
      },
    });
  }

  /**
   * Tracks a task (through `manager.track`) as the group's, with a deadline no later than the group's.
   * The task exists already, so a closed group still takes it, and cancels it at once.
   */
  track(ref: TaskRef, options: TrackOptions = {}): TaskHandle {
    this.#refusal();
    const handle = this.#host.manager.track(ref, taskOptionsWithin(options, this.deadline, this.#host.defaultTimeoutMs));
    this.#join(handle, this.#chain(), false);
    return handle;
  }

  /** A child group: its deadline is at most this one's, and closing this one closes it. */
  group(options: GroupOptions = {}): TaskGroup {
    const refused = this.#refusal();
    if (refused !== undefined) throw new GroupClosedError(refused, this.name);
    return new TaskGroup(this.#host, options, this);
  }

  /**
   * Closes the group (`cancelled`): drops its queued starts and cancels its tasks, child groups'
   * included, in one bulk cancel. A create in flight is cancelled when it answers.
   */
  cancel(): Promise<BulkCancelResult> {
    if (this.#reason === undefined) this.#shut('cancelled');
    return this.#host.manager.cancelMany(this.active());
  }

  /** Refs of the group's tasks (child groups' included) that have not settled. */
  active(): TaskRef[] {
    return this.#tally.active();
  }

  /** Resolves (never rejects) once every task started, queued or tracked so far has settled. */
  wait(): Promise<GroupResult> {
    if (!this.#busy) return Promise.resolve(this.#tally.result(this.#reason, this.#host.clock.now()));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  get #busy(): boolean {
    return this.#starting > 0 || this.#tally.running > 0;
  }

  /** This group and its ancestors, innermost first. */
  #chain(): TaskGroup[] {
    const chain: TaskGroup[] = [];
    for (let group: TaskGroup | undefined = this; group; group = group.#parent) chain.push(group);
    return chain;
  }

  /** A deadline passed or a signal aborted, seen without a timer or a listener. */
  #lapse(): GroupCloseReason | undefined {
    if (this.deadline !== undefined && this.deadline <= this.#host.clock.now()) return 'timed_out';
    return this.#options.signal?.aborted ? 'cancelled' : undefined;
  }

  /** Why new work is refused, if it is. An idle group that lapsed closes now, so that `wait()` tells why. */
  #refusal(): GroupCloseReason | undefined {
    for (const group of this.#chain().reverse()) {
      const lapse = group.#reason === undefined && !group.#busy ? group.#lapse() : undefined;
      if (lapse !== undefined) group.#shut(lapse);
    }
    return this.closed;
  }

  #join(handle: TaskHandle, chain: readonly TaskGroup[], started: boolean): void {
    const key = refKey(handle.ref);
    const member: Member = { ref: handle.ref, key, rate: taskCostRate(handle), result: undefined };
    const now = this.#host.clock.now();
    const joined = chain.filter((group) => !group.#tally.has(key));
    for (const group of chain) {
      if (started) group.#starting--;
      if (joined.includes(group)) group.#tally.join(member, now);
    }
    if (joined.length > 0) {
      void handle.done.then((result) => {
        member.result = result;
        for (const group of joined) group.#onSettled(member, result.outcome);
      });
    }
    TaskGroup.#updateAll(chain);
    // A `timed_out` group passed its deadline on to the task: the manager cancels it as timed_out.
    if (this.#reason !== undefined && this.#reason !== 'timed_out') this.#host.manager.cancel(handle.ref).catch(() => {});
  }

  #onSettled(member: Member, outcome: TaskOutcome): void {
    this.#tally.settle(member, outcome, this.#host.clock.now());
    // The task's own cancel for the group's deadline can settle before the group's alarm fires (a clock
    // turn is longer than a cancel on a fast network): the group has timed out all the same.
    if (outcome === 'timed_out' && this.#lapse() === 'timed_out') this.#close('timed_out');
    else if (this.#options.failFast && FAIL_FAST.has(outcome)) this.#close('failed');
    this.#update();
  }

  #onBudgetAlarm(): void {
    const cap = this.#options.budgetTaskMs;
    if (cap !== undefined && this.#tally.overBudget(cap, this.#host.clock.now())) this.#close('over_budget');
    else this.#update();
  }

  /** Closes the group and cancels its tasks in one bulk call. */
  #close(reason: GroupCloseReason): void {
    if (this.#reason !== undefined) return;
    this.#shut(reason);
    const refs = this.active();
    if (refs.length > 0) void this.#host.manager.cancelMany(refs);
  }

  /** Marks the group and its subtree closed, drops their queued starts and disarms them. */
  #shut(reason: GroupCloseReason): void {
    const closing: TaskGroup[] = [];
    const visit = (group: TaskGroup, why: GroupCloseReason): void => {
      if (group.#reason !== undefined) return;
      group.#reason = why;
      closing.push(group);
      for (const child of group.#children) visit(child, why === 'timed_out' ? 'timed_out' : 'cancelled');
    };
    visit(this, reason);
    for (const queued of [...this.#queued]) TaskGroup.#drop(queued, new GroupClosedError(reason, this.name), true);
    TaskGroup.#updateAll([...closing, ...this.#chain()]);
  }

  /** Takes a start off its groups' queues; false if it already was. */
  static #dequeue(queued: QueuedStart<TaskGroup>): boolean {
    if (queued.gone) return false;
    queued.gone = true;
    queued.off?.();
    for (const group of queued.chain) group.#queued.delete(queued);
    return true;
  }

  /** Rejects a queued start, which will never be created; `closed` when its group closed (a drop it counts). */
  static #drop(queued: QueuedStart<TaskGroup>, error: unknown, closed: boolean): void {
    if (!TaskGroup.#dequeue(queued)) return;
    for (const group of queued.chain) {
      group.#starting--;
      if (closed) group.#tally.dropped();
    }
    queued.reject(error);
    TaskGroup.#updateAll(queued.chain);
  }

  /** Updates each group once, after a change that touched several (a chain, a closed subtree). */
  static #updateAll(groups: Iterable<TaskGroup>): void {
    for (const group of new Set(groups)) group.#update();
  }

  /** Watches the deadline, budget and signal while there is work and the group is open; else nothing. */
  #update(): void {
    if (this.#busy && this.#reason === undefined) {
      const { deadline } = this;
      const parentDeadline = this.#parent?.deadline;
      const cap = this.#options.budgetTaskMs;
      this.#watch.arm(
        // A child with its parent's deadline leaves it to the parent, whose one bulk cancel covers both.
        parentDeadline === undefined || (deadline !== undefined && deadline < parentDeadline) ? deadline : undefined,
        cap === undefined ? Number.POSITIVE_INFINITY : this.#tally.budgetReachedAt(cap, this.#host.clock.now()),
        this.#options.signal,
      );
    } else {
      this.#watch.disarm();
    }
    if (!this.#busy && this.#waiters.length > 0) {
      const result = this.#tally.result(this.#reason, this.#host.clock.now());
      for (const resolve of this.#waiters.splice(0)) resolve(result);
    }
  }
}
