/**
 * Signals, end to end: a real child process runs a TaskManager with `shutdown: { graceMs, exit: true }`
 * against the embedded simulator (in this process, on loopback), the test sends it real SIGTERM/SIGINT,
 * and asserts on the child's exit code, what it printed and the simulator's ledger.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskManager, type TaskRef } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { startNode, stopAll, until, type NodeChild } from '../tools/child.js';
import { simulatorEnv, type PlainReport, type PlainResult } from './fixtures/protocol.js';

const WORKER = 'test/fixtures/signal-worker.ts';
/** Margin over a grace period for process start-up and scheduling on a busy machine. */
const MARGIN_MS = 5_000;
/** A poll delay no test outlives: after its first poll a task has no request in flight. */
const IDLE_POLL_MS = 600_000;

let sim: Simulator;

beforeEach(async () => {
  // Tasks never end on their own: every cancel the ledger shows was needed, and a missed one stays visible.
  sim = await createSimulator({ queuedMs: 20, defaultDurationMs: Number.POSITIVE_INFINITY });
});

afterEach(async () => {
  await stopAll();
  await sim.close();
});

interface WorkerConfig {
  readonly agentIds?: readonly string[];
  readonly cloudIds?: readonly string[];
  readonly startAgent?: number;
  readonly graceMs?: number;
  readonly managers?: 'one' | 'two';
  readonly concurrency?: number;
  readonly cloudConcurrency?: number;
  readonly signals?: readonly NodeJS.Signals[];
  readonly clientTimeoutMs?: number;
  readonly pollMs?: number;
  /** Start a bulk cancel of every task right after READY: `cancelMany` or `cancelAll`. */
  readonly bulk?: 'many' | 'all';
  readonly bulkConcurrency?: number;
  /** `shutdown.exit`; true unless given. */
  readonly exit?: boolean;
}

function startWorker(config: WorkerConfig): NodeChild {
  const env: Record<string, string> = {
    ...simulatorEnv(sim),
    TG_AGENT_IDS: (config.agentIds ?? []).join(','),
    TG_CLOUD_IDS: (config.cloudIds ?? []).join(','),
    TG_START_AGENT: String(config.startAgent ?? 0),
    TG_GRACE_MS: String(config.graceMs ?? 10_000),
    TG_MANAGERS: config.managers ?? 'one',
    TG_SIGNALS: (config.signals ?? []).join(','),
  };
  if (config.concurrency !== undefined) env['TG_CONCURRENCY'] = String(config.concurrency);
  if (config.cloudConcurrency !== undefined) env['TG_CLOUD_CONCURRENCY'] = String(config.cloudConcurrency);
  if (config.pollMs !== undefined) env['TG_POLL_MS'] = String(config.pollMs);
  if (config.clientTimeoutMs !== undefined) env['TG_CLIENT_TIMEOUT_MS'] = String(config.clientTimeoutMs);
  if (config.bulk !== undefined) env['TG_BULK'] = config.bulk;
  if (config.bulkConcurrency !== undefined) env['TG_BULK_CONCURRENCY'] = String(config.bulkConcurrency);
  if (config.exit === false) env['TG_EXIT'] = 'false';
  return startNode(WORKER, { env });
}

function agentRuns(count: number): string[] {
  return Array.from({ length: count }, () => sim.createAgentRun().runId);
}

function cloudTasks(count: number): string[] {
  return Array.from({ length: count }, () => sim.createCloudTask().task.id);
}

/** Stop works only on a `processing` task: wait until the simulator says every one is. */
function untilProcessing(ids: readonly string[]): Promise<void> {
  return until(() => ids.every((id) => sim.getCloudTask(id)?.status === 'processing'), `cloud tasks ${ids.join(', ')} are processing`);
}

/**
 * Waits until every task had its first poll answered and nothing is in flight: a cancel then goes out at
 * once (a cancel waits for its task's poll in flight, and a hung poll would hold it back).
 */
function untilPolledAndIdle(runs: readonly string[], tasks: readonly string[]): Promise<void> {
  return until(
    () =>
      (sim.ledger.byRoute.get('agent.status') ?? 0) >= runs.length &&
      (sim.ledger.byRoute.get('cloud.status') ?? 0) >= tasks.length &&
      sim.ledger.inFlight === 0,
    'every task was polled once and no request is in flight',
  );
}

async function ready(child: NodeChild): Promise<{ refs: TaskRef[]; started: string[] }> {
  return JSON.parse(await child.waitFor('READY')) as { refs: TaskRef[]; started: string[] };
}

function reports(child: NodeChild, name = 'main'): PlainReport[] {
  return child.tagged(`SHUTDOWN ${name}`).map((line) => JSON.parse(line) as PlainReport);
}

const byKey = (a: TaskRef, b: TaskRef): number => `${a.kind}:${a.id}`.localeCompare(`${b.kind}:${b.id}`);
const sorted = (refs: readonly TaskRef[]): TaskRef[] => refs.map(({ kind, id }) => ({ kind, id })).sort(byKey);

describe('graceful shutdown on a signal', () => {
  it('cancels every tracked agent run, stops every cloud task and exits with 143 on SIGTERM', async () => {
    const runs = agentRuns(3);
    const tasks = cloudTasks(2);
    const child = startWorker({ agentIds: runs, cloudIds: tasks, startAgent: 1 });
    const { refs, started } = await ready(child);
    expect(refs).toHaveLength(6);
    await untilProcessing(tasks);

    child.signal('SIGTERM');
    const exit = await child.waitForExit(10_000 + MARGIN_MS);

    expect(exit, child.describe()).toMatchObject({ code: 143, signal: null });
    for (const id of [...runs, ...started]) {
      expect(sim.ledger.cancels.get(id), `cancels of ${id}`).toBe(1);
      expect(sim.getAgentRun(id)?.status).toBe('cancelled');
    }
    for (const id of tasks) {
      expect(sim.ledger.stops.get(id), `stops of ${id}`).toBe(1);
      expect(sim.getCloudTask(id)?.status).toBe('stopped');
    }
    const [report, ...more] = reports(child);
    expect(more).toEqual([]);
    expect(report?.unconfirmed).toEqual([]);
    expect(report?.counts).toEqual({ cancelled: 6, alreadyDone: 0, failed: 0 });
    expect(report?.settled.map((r) => r.outcome)).toEqual(Array(6).fill('cancelled'));
    expect(sorted(report?.settled ?? [])).toEqual(sorted(refs));
    expect(child.tagged('EXIT')).toEqual(['143']);
  });

  it('cancels every tracked task and exits with 130 on SIGINT', async () => {
    const runs = agentRuns(2);
    const tasks = cloudTasks(2);
    const child = startWorker({ agentIds: runs, cloudIds: tasks });
    await ready(child);
    await untilProcessing(tasks);

    child.signal('SIGINT');
    const exit = await child.waitForExit(10_000 + MARGIN_MS);

    expect(exit, child.describe()).toMatchObject({ code: 130, signal: null });
    for (const id of runs) expect(sim.ledger.cancels.get(id), `cancels of ${id}`).toBe(1);
    for (const id of tasks) expect(sim.ledger.stops.get(id), `stops of ${id}`).toBe(1);
    expect(reports(child)[0]?.counts).toEqual({ cancelled: 4, alreadyDone: 0, failed: 0 });
  });

  it('leaves a signal it was not configured for to its default behaviour', async () => {
    const runs = agentRuns(1);
    const child = startWorker({ agentIds: runs, signals: ['SIGTERM'] });
    await ready(child);

    child.signal('SIGINT');
    const exit = await child.waitForExit(MARGIN_MS * 2);

    // No handler: the default action kills the process by the signal, and nothing was cancelled.
    expect(exit, child.describe()).toMatchObject({ code: null, signal: 'SIGINT' });
    expect(sim.ledger.cancels.get(runs[0]!)).toBeUndefined();
    expect(reports(child)).toEqual([]);
  });
});

describe('a second signal during the graceful shutdown', () => {
  // The tasks are polled once and then left idle (the next poll is a minute away), so the signal's cancels
  // go out at once; the API hangs from then on, so the shutdown waits for answers that never come, and
  // its grace (60 s) is far longer than the whole test may take.
  const graceMs = 60_000;

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`exits at once with ${code} when a second ${signal} arrives while the cancels are still pending`, async () => {
      const runs = agentRuns(2);
      const tasks = cloudTasks(1);
      const child = startWorker({ agentIds: runs, cloudIds: tasks, graceMs, pollMs: IDLE_POLL_MS, clientTimeoutMs: 120_000 });
      await ready(child);
      await untilProcessing(tasks);
      await untilPolledAndIdle(runs, tasks);
      sim.setFaults({ hangRate: 1 });

      const first = child.signal(signal);
      // The shutdown is under way once its cancel and stop requests reached the (hanging) server.
      await until(
        () => (sim.ledger.byRoute.get('agent.update') ?? 0) >= runs.length && (sim.ledger.byRoute.get('cloud.stop') ?? 0) >= tasks.length,
        'the shutdown sent its cancels',
        MARGIN_MS * 2,
      );
      expect(child.alive).toBe(true);
      const second = child.signal(signal);
      const exit = await child.waitForExit(MARGIN_MS * 2);

      expect(exit, child.describe()).toMatchObject({ code, signal: null });
      // Well before the grace would have ended, and without waiting for the shutdown to finish.
      expect(exit.at - second).toBeLessThan(MARGIN_MS);
      expect(exit.at - first).toBeLessThan(graceMs / 2);
      expect(reports(child)).toEqual([]);
      expect(child.tagged('EXIT')).toEqual([String(code)]);
    });
  }
});

describe('a second signal with shutdown.exit: false', () => {
  it('ends the shutdown at once, abandoning the unconfirmed tasks, and never calls process.exit', async () => {
    const runs = agentRuns(2);
    const graceMs = 60_000;
    const child = startWorker({ agentIds: runs, graceMs, pollMs: IDLE_POLL_MS, clientTimeoutMs: 120_000, exit: false });
    await ready(child);
    await untilPolledAndIdle(runs, []);
    sim.setFaults({ hangRate: 1 });

    child.signal('SIGTERM');
    await until(() => (sim.ledger.byRoute.get('agent.update') ?? 0) >= runs.length, 'the shutdown sent its cancels', MARGIN_MS * 2);
    expect(child.alive).toBe(true);
    const second = child.signal('SIGTERM');
    const exit = await child.waitForExit(MARGIN_MS * 2);

    // The report came out at once, every task in it unconfirmed; then the process ended by itself
    // (exit code 0: nothing called process.exit, and the hung requests were let go).
    expect(exit, child.describe()).toMatchObject({ code: 0, signal: null });
    expect(exit.at - second).toBeLessThan(MARGIN_MS);
    const [report, ...more] = reports(child);
    expect(report, child.describe()).toBeDefined();
    expect(more).toEqual([]);
    expect(report!.unconfirmed).toHaveLength(runs.length);
    expect(child.tagged('EXIT')).toEqual(['0']);
  });
});

describe('shutdown against a hung API', () => {
  const graceMs = 1_500;

  it('still exits with 143 within graceMs and reports every task as unconfirmed when the cancels hang', async () => {
    const runs = agentRuns(2);
    const tasks = cloudTasks(2);
    const child = startWorker({ agentIds: runs, cloudIds: tasks, graceMs, pollMs: IDLE_POLL_MS, clientTimeoutMs: 120_000 });
    const { refs } = await ready(child);
    await untilProcessing(tasks);
    await untilPolledAndIdle(runs, tasks);
    sim.setFaults({ hangRate: 1 });

    const sent = child.signal('SIGTERM');
    const exit = await child.waitForExit(graceMs + MARGIN_MS * 2);

    expect(exit, child.describe()).toMatchObject({ code: 143, signal: null });
    expect(exit.at - sent).toBeLessThan(graceMs + MARGIN_MS);
    // The cancels were sent and hung: none reached a handler, every task still runs.
    expect(sim.ledger.byRoute.get('agent.update')).toBe(runs.length);
    expect(sim.ledger.byRoute.get('cloud.stop')).toBe(tasks.length);
    expect(sim.ledger.cancels.size + sim.ledger.stops.size).toBe(0);
    for (const id of runs) expect(sim.getAgentRun(id)?.status).toBe('running');
    for (const id of tasks) expect(sim.getCloudTask(id)?.status).toBe('processing');

    const [report, ...more] = reports(child);
    expect(report, `no shutdown report was printed before the exit\n${child.describe()}`).toBeDefined();
    expect(more).toEqual([]);
    expect(sorted(report!.unconfirmed)).toEqual(sorted(refs));
    expect(report!.settled).toEqual([]);
    expect(report!.counts.cancelled).toBe(0);
    expect(report!.durationMs).toBeLessThan(graceMs + MARGIN_MS);
  });

  it('still exits with 143 within graceMs and reports every task as unconfirmed when the polls in flight hang too', async () => {
    const runs = agentRuns(2);
    const tasks = cloudTasks(2);
    const child = startWorker({ agentIds: runs, cloudIds: tasks, graceMs, clientTimeoutMs: 120_000 });
    const { refs } = await ready(child);
    // From now on nothing is answered: the first polls, sent as the tasks were tracked, hang as well.
    sim.setFaults({ hangRate: 1 });
    await untilProcessing(tasks);

    const sent = child.signal('SIGTERM');
    const exit = await child.waitForExit(graceMs + MARGIN_MS * 2);

    expect(exit, child.describe()).toMatchObject({ code: 143, signal: null });
    expect(exit.at - sent).toBeLessThan(graceMs + MARGIN_MS);
    for (const id of runs) expect(sim.getAgentRun(id)?.status).toBe('running');
    for (const id of tasks) expect(sim.getCloudTask(id)?.status).toBe('processing');
    const [report] = reports(child);
    expect(report, `no shutdown report was printed before the exit\n${child.describe()}`).toBeDefined();
    expect(sorted(report!.unconfirmed)).toEqual(sorted(refs));
    expect(report!.settled).toEqual([]);
  });

  it('still cancels every task within graceMs on SIGTERM when only the polls in flight hang', async () => {
    // One stuck poll connection per task (the first polls hang), while the API answers everything sent
    // afterwards: the spec wants the tasks cancelled within the grace, and nothing stops the cancels
    // from landing but the manager's own wait for the stuck polls (client timeout 30 s > grace 3 s).
    const grace = 3_000;
    const runs = agentRuns(2);
    sim.setFaults({ hangRate: 1 });
    const child = startWorker({ agentIds: runs, graceMs: grace, clientTimeoutMs: 30_000 });
    await ready(child);
    await until(() => sim.ledger.faults.hang >= runs.length, 'the first polls hang');
    sim.clearFaults();

    child.signal('SIGTERM');
    const exit = await child.waitForExit(grace + MARGIN_MS * 2);

    expect(exit, child.describe()).toMatchObject({ code: 143, signal: null });
    for (const id of runs) expect(sim.ledger.cancels.get(id), `cancels of ${id}\n${child.describe()}`).toBe(1);
    expect(reports(child)[0]?.counts).toEqual({ cancelled: 2, alreadyDone: 0, failed: 0 });
  });

  it('reports every task as unconfirmed within graceMs when there are more tasks than the concurrency cap', async () => {
    // Two cancels hang in the two request slots; the other two wait behind them when the grace ends.
    const runs = agentRuns(4);
    const child = startWorker({ agentIds: runs, graceMs, concurrency: 2, pollMs: IDLE_POLL_MS, clientTimeoutMs: 120_000 });
    const { refs } = await ready(child);
    await untilPolledAndIdle(runs, []);
    sim.setFaults({ hangRate: 1 });

    const sent = child.signal('SIGTERM');
    const exit = await child.waitForExit(graceMs + MARGIN_MS * 2);

    expect(exit, child.describe()).toMatchObject({ code: 143, signal: null });
    expect(exit.at - sent).toBeLessThan(graceMs + MARGIN_MS);
    const [report] = reports(child);
    expect(report, `no shutdown report was printed before the exit\n${child.describe()}`).toBeDefined();
    expect(sorted(report!.unconfirmed)).toEqual(sorted(refs));
    expect(report!.durationMs).toBeLessThan(graceMs + MARGIN_MS);
  });
});

describe('two managers in one process', () => {
  it('shuts both down on one SIGTERM, cancels every task of each and exits once with 143', async () => {
    const runs = agentRuns(3);
    const tasks = cloudTasks(3);
    // The cloud manager stops its tasks one at a time behind a slow API, so it finishes well after the
    // agent manager: an exit as soon as the first manager is done would leave cloud tasks running.
    const child = startWorker({ agentIds: runs, cloudIds: tasks, managers: 'two', cloudConcurrency: 1, graceMs: 15_000 });
    await ready(child);
    await untilProcessing(tasks);
    sim.setFaults({ latencyMs: 300 });

    child.signal('SIGTERM');
    const exit = await child.waitForExit(15_000 + MARGIN_MS);

    expect(exit, child.describe()).toMatchObject({ code: 143, signal: null });
    for (const id of runs) expect(sim.ledger.cancels.get(id), `cancels of ${id}`).toBe(1);
    for (const id of tasks) expect(sim.ledger.stops.get(id), `stops of ${id}`).toBe(1);
    const agentReports = reports(child, 'agents');
    const cloudReports = reports(child, 'clouds');
    expect(agentReports).toHaveLength(1);
    expect(cloudReports).toHaveLength(1);
    expect(agentReports[0]?.counts).toEqual({ cancelled: 3, alreadyDone: 0, failed: 0 });
    expect(cloudReports[0]?.counts).toEqual({ cancelled: 3, alreadyDone: 0, failed: 0 });
    expect(cloudReports[0]?.settled.map((r) => r.outcome)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(child.tagged('EXIT')).toEqual(['143']);
  });
});

/** Cancel or stop requests that reached the simulator's handler for a run or task. */
function handled(id: string): number {
  return (sim.ledger.cancels.get(id) ?? 0) + (sim.ledger.stops.get(id) ?? 0);
}

function handledTotal(): number {
  let total = 0;
  for (const count of [...sim.ledger.cancels.values(), ...sim.ledger.stops.values()]) total += count;
  return total;
}

function settledResults(child: NodeChild, tag = 'SETTLED main'): PlainResult[] {
  return child.tagged(tag).map((line) => JSON.parse(line) as PlainResult);
}

describe('a signal during a bulk cancel', () => {
  // The bulk cancel goes two at a time behind a slow API, so it is far from done when the signal lands;
  // the shutdown then cancels what the bulk has not reached. Neither path may cancel a task twice: the
  // shutdown waits for a cancel the bulk has in flight instead of sending another, and the bulk's turn
  // for a task the shutdown already cancelled needs no request.
  const graceMs = 15_000;
  const latencyMs = 200;

  for (const [signal, code, bulk] of [
    ['SIGTERM', 143, 'many'],
    ['SIGINT', 130, 'all'],
  ] as const) {
    const call = bulk === 'many' ? 'cancelMany' : 'cancelAll';
    it(`exits with ${code} on ${signal} during ${call}, within graceMs, having cancelled every task exactly once`, async () => {
      const runs = agentRuns(12);
      const tasks = cloudTasks(6);
      await untilProcessing(tasks);
      sim.setFaults({ latencyMs });
      // cancelMany is given a concurrency of 2; cancelAll runs at the manager's cap, so the cap is 2.
      const child = startWorker({ agentIds: runs, cloudIds: tasks, graceMs, bulk, ...(bulk === 'many' ? { bulkConcurrency: 2 } : { concurrency: 2 }) });
      const { refs } = await ready(child);
      await child.waitFor('BULK_STARTED');
      await until(() => handledTotal() >= 2, `${call} cancelled its first tasks`, MARGIN_MS * 2);
      // Under way, far from done.
      expect(handledTotal()).toBeLessThan(refs.length);
      expect(child.tagged('BULK')).toEqual([]);

      const sent = child.signal(signal);
      const exit = await child.waitForExit(graceMs + MARGIN_MS);

      expect(exit, child.describe()).toMatchObject({ code, signal: null });
      expect(exit.at - sent).toBeLessThan(graceMs);
      for (const id of runs) {
        expect(sim.ledger.cancels.get(id), `cancels of ${id}\n${child.describe()}`).toBe(1);
        expect(sim.getAgentRun(id)?.status).toBe('cancelled');
      }
      for (const id of tasks) {
        expect(sim.ledger.stops.get(id), `stops of ${id}\n${child.describe()}`).toBe(1);
        expect(sim.getCloudTask(id)?.status).toBe('stopped');
      }
      // Not even a request that failed on the way: one cancel or stop request per task, in all.
      expect(sim.ledger.byRoute.get('agent.update')).toBe(runs.length);
      expect(sim.ledger.byRoute.get('cloud.stop')).toBe(tasks.length);
      // Every task settled exactly once, as cancelled, whether the bulk or the shutdown got to it first.
      const settled = settledResults(child);
      expect(sorted(settled)).toEqual(sorted(refs));
      expect(settled.filter((result) => result.outcome !== 'cancelled')).toEqual([]);
      const [report, ...more] = reports(child);
      expect(report, `no shutdown report was printed before the exit\n${child.describe()}`).toBeDefined();
      expect(more).toEqual([]);
      expect(report!.unconfirmed).toEqual([]);
      // The shutdown found tasks the bulk had not finished, and confirmed each of them.
      expect(report!.settled.length).toBeGreaterThan(0);
      expect(report!.settled.map((result) => result.outcome)).toEqual(Array(report!.settled.length).fill('cancelled'));
      expect(report!.counts).toEqual({ cancelled: report!.settled.length, alreadyDone: 0, failed: 0 });
      expect(report!.durationMs).toBeLessThan(graceMs);
      expect(child.tagged('EXIT')).toEqual([String(code)]);
    });
  }

  it('exits with 143 within graceMs when the API hangs during cancelMany, every task cancelled once or reported unconfirmed', async () => {
    const grace = 1_500;
    const runs = agentRuns(12);
    sim.setFaults({ latencyMs });
    const child = startWorker({ agentIds: runs, graceMs: grace, bulk: 'many', bulkConcurrency: 2, pollMs: IDLE_POLL_MS, clientTimeoutMs: 120_000 });
    const { refs } = await ready(child);
    await child.waitFor('BULK_STARTED');
    await until(() => handledTotal() >= 2, 'cancelMany cancelled its first runs', MARGIN_MS * 2);
    // From now on nothing is answered: the bulk's next cancels and the shutdown's hang alike.
    sim.setFaults({ hangRate: 1 });

    const sent = child.signal('SIGTERM');
    const exit = await child.waitForExit(grace + MARGIN_MS * 2);

    expect(exit, child.describe()).toMatchObject({ code: 143, signal: null });
    expect(exit.at - sent).toBeLessThan(grace + MARGIN_MS);
    const [report] = reports(child);
    expect(report, `no shutdown report was printed before the exit\n${child.describe()}`).toBeDefined();
    expect(report!.durationMs).toBeLessThan(grace + MARGIN_MS);
    // Every done resolved exactly once: cancelled (confirmed), or ended by the grace (unconfirmed).
    const settled = settledResults(child);
    expect(sorted(settled)).toEqual(sorted(refs));
    const confirmed = settled.filter((result) => result.outcome === 'cancelled');
    const abandoned = settled.filter((result) => result.outcome !== 'cancelled');
    expect(abandoned.filter((result) => result.outcome !== 'error' || result.error !== 'ManagerClosedError')).toEqual([]);
    expect(sorted(report!.unconfirmed)).toEqual(sorted(abandoned));
    expect(confirmed.length, child.describe()).toBeGreaterThanOrEqual(2);
    expect(abandoned.length, child.describe()).toBeGreaterThan(0);
    // No task was cancelled twice; the confirmed ones exactly once, the others at most once.
    for (const { id } of confirmed) expect(handled(id), `cancels of ${id}`).toBe(1);
    for (const { id } of abandoned) expect(handled(id), `cancels of ${id}`).toBeLessThanOrEqual(1);
    expect(sim.ledger.byRoute.get('agent.update')).toBeLessThanOrEqual(runs.length);
  });
});

function startThrower(mode: 'timer' | 'cancelled' | 'shutdown', runs: readonly string[], extra: Record<string, string> = {}): NodeChild {
  return startNode('test/fixtures/shutdown-throw.ts', {
    env: {
      TG_MODE: mode,
      ...simulatorEnv(sim),
      TG_AGENT_IDS: runs.join(','),
      ...extra,
    },
  });
}

describe('an uncaught exception during the graceful shutdown', () => {
  it('is not swallowed when a timer throws while the grace runs: the process dies non-zero long before the grace ends, the error on stderr', async () => {
    // The cancels hang and the grace is a minute: only the exception can end the process this soon.
    const graceMs = 60_000;
    const runs = agentRuns(2);
    const child = startThrower('timer', runs, {
      TG_GRACE_MS: String(graceMs),
      TG_POLL_MS: String(IDLE_POLL_MS),
      TG_CLIENT_TIMEOUT_MS: '120000',
      TG_THROW_AFTER_MS: '500',
    });
    await ready(child);
    await untilPolledAndIdle(runs, []);
    sim.setFaults({ hangRate: 1 });

    const sent = child.signal('SIGTERM');
    const exit = await child.waitForExit(MARGIN_MS * 2);

    expect(exit.signal, child.describe()).toBeNull();
    expect(exit.code, child.describe()).not.toBeNull();
    expect(exit.code, child.describe()).not.toBe(0);
    expect(exit.at - sent).toBeLessThan(graceMs / 2);
    expect(child.tagged('THROWING')).toEqual([JSON.stringify('a timer')]);
    expect(child.stderr).toContain('fixture failure: thrown from a timer during the shutdown');
    // The shutdown was under way (its cancels had gone out) and never finished.
    expect(sim.ledger.byRoute.get('agent.update')).toBe(runs.length);
    expect(child.tagged('SHUTDOWN')).toEqual([]);
  });

  for (const event of ['cancelled', 'shutdown'] as const) {
    it(`is not swallowed when a ${event} listener throws: the process exits non-zero with the error on stderr, its run cancelled`, async () => {
      const graceMs = 10_000;
      const runs = agentRuns(1);
      const child = startThrower(event, runs, { TG_GRACE_MS: String(graceMs) });
      await ready(child);

      const sent = child.signal('SIGTERM');
      const exit = await child.waitForExit(graceMs + MARGIN_MS);

      expect(child.tagged('THROWING'), child.describe()).toEqual([JSON.stringify(`a ${event} listener`)]);
      expect(exit.signal, child.describe()).toBeNull();
      expect(exit.code, child.describe()).not.toBeNull();
      expect(exit.code, child.describe()).not.toBe(0);
      expect(exit.at - sent).toBeLessThan(graceMs + MARGIN_MS);
      expect(child.stderr, child.describe()).toContain(`fixture failure: thrown from a ${event} listener during the shutdown`);
      expect(sim.ledger.cancels.get(runs[0]!)).toBe(1);
      expect(sim.getAgentRun(runs[0]!)?.status).toBe('cancelled');
    });
  }
});

describe('signal listeners of a manager in this process', () => {
  const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
  const counts = (): number[] => SIGNALS.map((signal) => process.listenerCount(signal));

  it('installs no signal listener when the shutdown option is off, as it is by default', () => {
    const before = counts();
    const byDefault = new TaskManager();
    const off = new TaskManager({ shutdown: false });
    expect(counts()).toEqual(before);
    byDefault.close();
    off.close();
    expect(counts()).toEqual(before);
  });

  it('listens while the shutdown option is on and removes every listener it added on close()', () => {
    const before = counts();
    const manager = new TaskManager({ shutdown: true });
    counts().forEach((count, i) => expect(count, SIGNALS[i]).toBeGreaterThan(before[i]!));
    manager.close();
    expect(counts()).toEqual(before);
  });

  it('listens only to the signals it was given', () => {
    const before = counts();
    const manager = new TaskManager({ shutdown: { signals: ['SIGTERM'], exit: false } });
    expect(process.listenerCount('SIGINT')).toBe(before[0]);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(before[1]!);
    manager.close();
    expect(counts()).toEqual(before);
  });

  it('keeps listening while one of two managers is open and removes everything once both are closed', () => {
    const before = counts();
    const first = new TaskManager({ shutdown: true });
    const second = new TaskManager({ shutdown: { graceMs: 1_000 } });
    counts().forEach((count, i) => expect(count, SIGNALS[i]).toBeGreaterThan(before[i]!));
    first.close();
    counts().forEach((count, i) => expect(count, `${SIGNALS[i]} after the first close`).toBeGreaterThan(before[i]!));
    first.close();
    second.close();
    expect(counts()).toEqual(before);
  });

  it('removes its listeners when shutdown() is called directly', async () => {
    const before = counts();
    const manager = new TaskManager({ shutdown: true });
    const report = await manager.shutdown({ graceMs: 100 });
    expect(report.unconfirmed).toEqual([]);
    expect(counts()).toEqual(before);
  });
});
