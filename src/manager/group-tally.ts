import type { GroupCloseReason } from '../errors/group-closed.js';
import type { TaskRef } from '../refs.js';
import { BudgetMeter } from './group-budget.js';
import type { GroupCounts, GroupResult } from './group-types.js';
import type { TaskOutcome, TaskResult } from './types.js';

/** One task of a group: the same object in every group of the chain it joined. */
export interface Member {
  readonly ref: TaskRef;
  readonly key: string;
  /** Task-minutes per minute (see `taskCostRate`). */
  readonly rate: number;
  result: TaskResult | undefined;
}

/** What one group knows of its tasks: who joined and in what order, who still runs, how each ended, what it cost. */
export class GroupTally {
  readonly #members: Member[] = [];
  readonly #alive = new Map<string, Member>();
  readonly #counts: { -readonly [K in keyof GroupCounts]: number } = { completed: 0, failed: 0, cancelled: 0, timed_out: 0, interrupted: 0, lost: 0, error: 0, dropped: 0 };
  readonly #meter: BudgetMeter;

  constructor(now: number) {
    this.#meter = new BudgetMeter(now);
  }

  /** Tasks that have not settled. */
  get running(): number {
    return this.#alive.size;
  }

  has(key: string): boolean {
    return this.#alive.has(key);
  }

  join(member: Member, now: number): void {
    this.#members.push(member);
    this.#alive.set(member.key, member);
    this.#meter.change(member.rate, now);
  }

  settle(member: Member, outcome: TaskOutcome, now: number): void {
    this.#alive.delete(member.key);
    this.#meter.change(-member.rate, now);
    this.#counts[outcome]++;
  }

  /** A start that never created a task because the group had closed. */
  dropped(): void {
    this.#counts.dropped++;
  }

  active(): TaskRef[] {
    return Array.from(this.#alive.values(), (member) => member.ref);
  }

  /** The moment the cost reaches `cap` task-milliseconds at the current number of running tasks. */
  budgetReachedAt(cap: number, now: number): number {
    return this.#meter.reachesAt(cap, now);
  }

  overBudget(cap: number, now: number): boolean {
    return this.#meter.spentAt(now) >= cap;
  }

  result(reason: GroupCloseReason | undefined, now: number): GroupResult {
    const results = this.#members.flatMap((member) => member.result ?? []);
    const outcome = reason ?? (results.every((result) => result.outcome === 'completed') ? 'completed' : 'failed');
    return { outcome, results, counts: { ...this.#counts }, taskMinutes: this.#meter.spentAt(now) / 60_000 };
  }
}
