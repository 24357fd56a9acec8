/**
 * Telemetry overhead.
 *
 * What OpenTelemetry costs per tracked task and per client request, with and without an SDK, measured
 * in one child process (bench/fixtures/telemetry-child.ts) whose rounds alternate the modes: no SDK
 * (the API's no-ops: what every user pays), an SDK (metrics and spans, spans dropped by the exporter),
 * and the same SDK with the AsyncLocalStorage context manager that NodeSDK installs. Neither figure
 * includes a network: a task's polls are answered in-process on a fake clock, and the client's `fetch`
 * answers at once, so that the ratio shows the telemetry rather than the wait. Also: the task hooks
 * alone with no SDK, in nanoseconds per task. No target: the figures are reported.
 */
import { startNode } from '../tools/child.js';
import { fixed, int, ratio, type Benchmark, type BenchOptions, type Row } from './lib/report.js';

type Mode = 'none' | 'sdk' | 'sdkAls';

interface TelemetryResult {
  readonly n: number;
  readonly requests: number;
  readonly rounds: number;
  readonly perTask: Record<Mode, number>;
  readonly perRequest: Record<Mode, number>;
  readonly runs: { readonly task: Record<Mode, number[]>; readonly request: Record<Mode, number[]> };
  readonly noopHooksNsPerTask: number;
}

export const telemetry: Benchmark = {
  name: 'telemetry',
  title: 'Telemetry overhead per tracked task and per request, with and without an SDK',
  async run(options: BenchOptions): Promise<Row[]> {
    const n = options.full ? 50_000 : 10_000;
    const rounds = options.full ? 9 : 5;
    const fixture = startNode('bench/fixtures/telemetry-child.ts', { args: [String(n), String(rounds)] });
    let result: TelemetryResult;
    try {
      result = await fixture.waitForJson<TelemetryResult>('RESULT', 600_000);
    } finally {
      fixture.kill();
    }
    const { perTask, perRequest, runs } = result;
    const list = (values: readonly number[]): string => values.map((v) => v.toFixed(1)).join(' / ');
    options.log(`  ${int(n)} tasks and ${int(result.requests)} requests per round, ${result.rounds} rounds (median kept); CPU µs:`);
    for (const mode of ['none', 'sdk', 'sdkAls'] as const) options.log(`    ${mode.padEnd(6)} per task ${list(runs.task[mode])}; per request ${list(runs.request[mode])}`);
    options.log(`  task hooks alone, no SDK: ${result.noopHooksNsPerTask.toFixed(0)} ns per task`);
    const row = (metric: string, ours: number, baseline: number, baselineLabel: string): Row => ({
      benchmark: 'telemetry',
      metric,
      ours: fixed(ours, 1, 'µs'),
      baseline: `${baselineLabel}: ${fixed(baseline, 1, 'µs')}`,
      ratio: ratio(ours / baseline),
      target: 'reported',
      verdict: 'info',
    });
    const label = `N=${int(n)}`;
    return [
      row(`CPU per tracked task (track, 2 polls, settle; no HTTP), SDK, ${label}`, perTask.sdk, perTask.none, 'no SDK'),
      row(`CPU per tracked task, SDK + AsyncLocalStorage context, ${label}`, perTask.sdkAls, perTask.none, 'no SDK'),
      row('CPU per client request (stub fetch), SDK', perRequest.sdk, perRequest.none, 'no SDK'),
      row('CPU per client request (stub fetch), SDK + AsyncLocalStorage context', perRequest.sdkAls, perRequest.none, 'no SDK'),
      {
        benchmark: 'telemetry',
        metric: 'task hooks alone, no SDK (tracked, 2 status, 2 within, settled)',
        ours: fixed(result.noopHooksNsPerTask, 0, 'ns'),
        baseline: `a tracked task, no SDK: ${fixed(perTask.none, 1, 'µs')}`,
        ratio: ratio(result.noopHooksNsPerTask / 1000 / perTask.none),
        target: 'reported',
        verdict: 'info',
      },
    ];
  },
};
