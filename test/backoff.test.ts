import { describe, expect, it } from 'vitest';
import { backoffDelay, validateBackoffPolicy } from '../src/util/backoff.js';
import { parseRetryAfter } from '../src/util/retry-after.js';
import { MinHeap } from '../src/manager/heap.js';
import { Scheduler } from '../src/manager/scheduler.js';

const policy = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0 };

describe('backoffDelay', () => {
  it('grows by the factor from initialMs and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a, policy))).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('keeps jittered delays within [(1 - jitter) × d, d]', () => {
    const jittered = { ...policy, jitter: 0.5 };
    expect(backoffDelay(2, jittered, undefined, () => 0)).toBe(400);
    expect(backoffDelay(2, jittered, undefined, () => 0.999_999)).toBe(200);
    for (let i = 0; i < 1_000; i++) {
      const delay = backoffDelay(i % 8, jittered);
      const nominal = Math.min(1_000, 100 * 2 ** (i % 8));
      expect(delay).toBeGreaterThanOrEqual(nominal / 2);
      expect(delay).toBeLessThanOrEqual(nominal);
    }
  });

  it('never waits less than a server hint', () => {
    expect(backoffDelay(0, policy, 5_000)).toBe(5_000);
    expect(backoffDelay(3, policy, 10)).toBe(800);
  });

  it('survives huge attempt numbers without overflowing', () => {
    expect(backoffDelay(10_000, policy)).toBe(1_000);
  });

  it('refuses a policy that makes no sense, naming the field', () => {
    expect(() => validateBackoffPolicy({ ...policy, factor: 0.5 }, 'poll')).toThrow(/poll\.factor/);
    expect(() => validateBackoffPolicy({ ...policy, initialMs: -1 }, 'poll')).toThrow(/poll\.initialMs/);
    expect(() => validateBackoffPolicy({ ...policy, jitter: Number.NaN }, 'poll')).toThrow(/poll\.jitter/);
  });
});

describe('parseRetryAfter', () => {
  const headers = (init: Record<string, string>) => new Headers(init);

  it('reads seconds, fractional seconds and retry-after-ms', () => {
    expect(parseRetryAfter(headers({ 'retry-after': '3' }))).toBe(3_000);
    expect(parseRetryAfter(headers({ 'retry-after': '0.5' }))).toBe(500);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfter(headers({ 'retry-after': 'Wed, 21 Oct 2026 07:28:30 GMT' }), now)).toBe(30_000);
    expect(parseRetryAfter(headers({ 'retry-after': 'Wed, 21 Oct 2026 07:27:00 GMT' }), now)).toBe(0);
  });

  it('ignores a missing or unreadable header', () => {
    expect(parseRetryAfter(headers({}))).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(parseRetryAfter(headers({ 'retry-after': '-5' }))).toBeUndefined();
  });
});

describe('MinHeap', () => {
  it('pops entries by time, ties in insertion order', () => {
    const heap = new MinHeap<string>();
    const input = Array.from({ length: 200 }, (_, i) => [(i * 7919) % 50, `v${i}`] as const);
    for (const [at, value] of input) heap.push(at, value);
    const out: [number, string][] = [];
    for (let e = heap.pop(); e; e = heap.pop()) out.push([e.at, e.value]);
    const expected = [...input].map(([at, v], i) => ({ at, v, i })).sort((a, b) => a.at - b.at || a.i - b.i).map(({ at, v }) => [at, v]);
    expect(out).toEqual(expected);
    expect(heap.size).toBe(0);
  });
});

describe('Scheduler', () => {
  it('sweeps out the entries of finished tasks instead of holding them until their far deadline', () => {
    const dead = new Set<number>();
    const scheduler = new Scheduler<number>(
      { now: () => 0, setTimeout: () => 1, clearTimeout: () => {} },
      { onDue: () => {}, onDeadline: () => {}, isLive: (v) => !dead.has(v), canDispatch: () => true, liveCount: () => 10 },
    );
    scheduler.deadline(-1, 1);
    for (let i = 0; i < 10_000; i++) {
      scheduler.deadline(i, 3_600_000 + i);
      if (i >= 10) dead.add(i - 10);
    }
    expect(scheduler.size).toBeLessThanOrEqual(2_048);
  });

  it('keeps the heap order after a sweep', () => {
    const heap = new MinHeap<number>();
    for (let i = 0; i < 500; i++) heap.push((i * 7_919) % 501, i);
    heap.retain((v) => v % 3 !== 0);
    const out: number[] = [];
    for (let e = heap.pop(); e; e = heap.pop()) out.push(e.at);
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out).toHaveLength(333);
  });
});
