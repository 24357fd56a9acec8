/**
 * 2. Tracking at scale.
 *
 * 100,000 tracked tasks (quick: 20,000) in one process, measured in a child started with `--expose-gc`
 * (bench/fixtures/tracking-child.ts): heap per task after GC (target ≤ 1 KB), timers armed (target 1),
 * scheduler CPU per dispatched poll excluding HTTP (target ≤ 5 µs) and `track()` throughput. The baseline,
 * in the same child, is the naive way: one `setTimeout` polling loop and one promise per task.
 * `--breakdown` adds what a tracked task is made of, from two heap snapshots; `--profile` profiles the
 * poll path (`node --cpu-prof`) and summarizes it.
 */
import { startNode } from '../tools/child.js';
import type { HeapShare } from './lib/heap-diff.js';
import { POLL_QUESTIONS, profileTarget } from './lib/profile.js';
import { fixed, int, ratio, verdict, type Benchmark, type BenchOptions, type Row } from './lib/report.js';

interface TrackingResult {
  readonly n: number;
  readonly composition?: HeapShare[];
  readonly handleBytes?: { readonly literal: number; readonly class: number };
  readonly ours: {
    readonly heapPerTask: number;
    readonly timersArmed: number;
    readonly fakeTimers: number;
    readonly trackPerSecond: number;
    readonly cpuPerPoll: number;
    readonly cpuPerPollRuns: number[];
    readonly polls: number;
    readonly maxTimersArmedWhilePolling: number;
    readonly maxFakeTimersWhilePolling: number;
  };
  readonly naive: { readonly heapPerTask: number; readonly timers: number; readonly trackPerSecond: number; readonly cpuPerPoll: number; readonly polls: number };
}

const HEAP_TARGET = 1024;
const CPU_TARGET_US = 5;

export const tracking: Benchmark = {
  name: 'tracking',
  title: 'Tracking at scale',
  async run(options: BenchOptions): Promise<Row[]> {
    const n = options.full ? 100_000 : 20_000;
    const fixture = startNode('bench/fixtures/tracking-child.ts', { args: [String(n), ...(options.breakdown ? ['--breakdown'] : [])], nodeArgs: ['--expose-gc'] });
    let result: TrackingResult;
    try {
      result = await fixture.waitForJson<TrackingResult>('RESULT', 300_000);
    } finally {
      fixture.kill();
    }
    const { ours, naive } = result;
    options.log(
      `  ${int(n)} tasks: heap ${ours.heapPerTask.toFixed(0)} B/task (naive ${naive.heapPerTask.toFixed(0)}); timers ${ours.timersArmed} ` +
        `(fake clock ${ours.fakeTimers}; while polling at most ${ours.maxTimersArmedWhilePolling} / ${ours.maxFakeTimersWhilePolling}; naive ${int(naive.timers)})`,
    );
    options.log(
      `  CPU per poll ${ours.cpuPerPollRuns.map((v) => v.toFixed(2)).join(' / ')} µs over ${int(ours.polls)} polls (naive ${naive.cpuPerPoll.toFixed(2)} µs over ${int(naive.polls)}); ` +
        `track() ${int(ours.trackPerSecond)}/s (naive ${int(naive.trackPerSecond)}/s)`,
    );
    if (result.composition) {
      options.log('  what one tracked task is made of (heap snapshot diff, bytes per task):');
      for (const share of result.composition) options.log(`    ${share.bytesPerTask.toFixed(0).padStart(5)} B  ${share.objectsPerTask.toFixed(2).padStart(5)} ×  ${share.kind}`);
    }
    if (result.handleBytes) {
      options.log(
        `  the handle alone: as record.ts builds it (object literal, 2 getters, a cancel closure) ${result.handleBytes.literal.toFixed(0)} B; ` +
          `as a class with prototype getters and cancel() ${result.handleBytes.class.toFixed(0)} B`,
      );
    }
    if (options.profile) await profileTarget(['poll', String(n), '20'], POLL_QUESTIONS, options.log);
    const timers = Math.max(ours.timersArmed, ours.fakeTimers, ours.maxTimersArmedWhilePolling, ours.maxFakeTimersWhilePolling);
    const label = `N=${int(n)}`;
    return [
      {
        benchmark: 'tracking',
        metric: `heap per tracked task after GC, ${label}`,
        ours: fixed(ours.heapPerTask, 0, 'B'),
        baseline: `naive timer+promise: ${fixed(naive.heapPerTask, 0, 'B')}`,
        ratio: ratio(ours.heapPerTask / naive.heapPerTask),
        target: `≤ ${HEAP_TARGET} B`,
        verdict: verdict(ours.heapPerTask <= HEAP_TARGET),
      },
      {
        benchmark: 'tracking',
        metric: `timers armed (stats() and fake clock), ${label}`,
        ours: String(timers),
        baseline: `naive: ${int(naive.timers)}`,
        ratio: ratio(timers / naive.timers),
        target: '1',
        verdict: verdict(timers === 1),
      },
      {
        benchmark: 'tracking',
        metric: `scheduler CPU per dispatched poll, no HTTP, ${label}`,
        ours: fixed(ours.cpuPerPoll, 2, 'µs'),
        baseline: `naive timer per task: ${fixed(naive.cpuPerPoll, 2, 'µs')}`,
        ratio: ratio(ours.cpuPerPoll / naive.cpuPerPoll),
        target: `≤ ${CPU_TARGET_US} µs`,
        verdict: verdict(ours.cpuPerPoll <= CPU_TARGET_US),
      },
      {
        benchmark: 'tracking',
        metric: `track() throughput, ${label}`,
        ours: `${int(ours.trackPerSecond)}/s`,
        baseline: `naive: ${int(naive.trackPerSecond)}/s`,
        ratio: ratio(ours.trackPerSecond / naive.trackPerSecond),
        target: 'reported',
        verdict: 'info',
      },
    ];
  },
};
