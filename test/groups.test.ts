/**
 * Task groups on a fake clock: one deadline, one budget, one concurrency limit and failFast over many
 * tasks, nested groups, and a group's deadline held across a crash by a FileStore. Requests are
 * counted on the scripted backend: every rule is checked against what reached the API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FileStore,
  GroupClosedError,
  NotFoundError,
  TaskManager,
  type GroupResult,
  type TaskBackend,
  type TaskRef,
  type TaskResult,
  type TaskState,
  type TaskStore,
} from '../src/index.js';
import { fakeClock, ScriptedBackend } from './helpers/fake-backend.js';

/** What the test backend's create takes: how long the task runs and how it ends, or a create that fails. */
interface JobBody {
  readonly durationMs?: number;
  readonly outcome?: TaskState;
  readonly fail?: boolean;
}

function setup(options: { maxPollMs?: number; defaultTimeoutMs?: number; store?: TaskStore; clock?: ReturnType<typeof fakeClock> } = {}) {
  const { clock, fake } = options.clock ?? fakeClock();
  const backend = new ScriptedBackend(fake);
  let created = 0;
  // ScriptedBackend's own create names a task after the number of tasks it has, which two creates in
  // flight at once would share: this one numbers its creates.
  const jobs: TaskBackend = {
    getStatus: backend.getStatus,
    cancel: backend.cancel,
    create: async (body) => {
      const { durationMs = 3_600_000, outcome = 'completed', fail = false } = body as JobBody;
      const id = `job-${created++}`;
      backend.calls.push({ op: 'create', id, at: fake.now });
      await new Promise<void>((resolve) => fake.setTimeout(() => resolve(), backend.latencyMs));
      if (fail) throw new Error(`create of ${id} refused`);
      backend.add(id, durationMs, outcome);
      return { id, created: { id } };
    },
  };
  const manager = new TaskManager({
    backends: { job: jobs },
    clock,
    concurrency: 16,
    poll: { initialMs: 100, maxMs: options.maxPollMs ?? 1_600, factor: 2, jitter: 0 },
    ...(options.defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.defaultTimeoutMs }),
    ...(options.store === undefined ? {} : { store: options.store }),
  });
  managers.push(manager);
  const t0 = fake.now;
  const ref = (id: string): TaskRef => ({ kind: 'job', id });
  const calls = (op: 'status' | 'cancel' | 'create') => backend.calls.filter((call) => call.op === op);
  const settledAt = new Map<string, number>();
  manager.on('settled', (result) => settledAt.set(result.id, fake.now));
  return { clock, fake, backend, manager, ref, calls, t0, settledAt };
}

const managers: TaskManager[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A start whose rejection the test checks later: handled now, so that it is not unhandled while the clock ticks. */
function observe<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** The rejection of a promise that must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

const outcomes = (result: GroupResult): string[] => result.results.map((r) => `${r.id}:${r.outcome}`);

describe('TaskGroup deadline', () => {
  it('cancels every live task of the group and of its child groups at its deadline, as timed_out, in one bulk cancel', async () => {
    const { fake, backend, manager, ref, calls, t0 } = setup();
    const group = manager.group({ timeoutMs: 60_000 });
    const child = group.group();
    for (const id of ['a', 'b', 'c']) backend.add(id, 3_600_000);
    backend.add('d', 10_000);
    group.track(ref('a'));
    group.track(ref('b'));
    child.track(ref('c'));
    group.track(ref('d'));
    const cancelMany = vi.spyOn(manager, 'cancelMany');

    await fake.tickAsync(61_000);

    expect(calls('cancel').map((call) => [call.id, call.at - t0]).sort()).toEqual([
      ['a', 60_000],
      ['b', 60_000],
      ['c', 60_000],
    ]);
    expect(cancelMany).toHaveBeenCalledTimes(1);
    expect(cancelMany.mock.calls[0]?.[0]).toEqual([ref('a'), ref('b'), ref('c')]);
    const result = await group.wait();
    expect(result.outcome).toBe('timed_out');
    expect(outcomes(result)).toEqual(['a:timed_out', 'b:timed_out', 'c:timed_out', 'd:completed']);
    expect(result.counts).toMatchObject({ timed_out: 3, completed: 1, cancelled: 0 });
    expect((await child.wait()).outcome).toBe('timed_out');
    expect(group.closed).toBe('timed_out');
    expect(child.closed).toBe('timed_out');
  });

  it("keeps a task's own earlier deadline and gives a task with a later one the group's", async () => {
    const { fake, backend, manager, ref, calls, t0 } = setup();
    const group = manager.group({ timeoutMs: 60_000 });
    for (const id of ['early', 'late', 'absolute']) backend.add(id, 3_600_000);
    const early = group.track(ref('early'), { timeoutMs: 10_000 });
    const late = group.track(ref('late'), { timeoutMs: 120_000 });
    const absolute = group.track(ref('absolute'), { deadline: new Date(t0 + 30_000) });
    expect([early.deadline, late.deadline, absolute.deadline]).toEqual([t0 + 10_000, t0 + 60_000, t0 + 30_000]);

    await fake.tickAsync(10_100);
    expect((await early.done).outcome).toBe('timed_out');
    expect(calls('cancel').map((call) => [call.id, call.at - t0])).toEqual([['early', 10_000]]);
    expect(group.closed).toBeUndefined();
    expect(group.active()).toEqual([ref('late'), ref('absolute')]);

    await fake.tickAsync(51_000);
    expect(calls('cancel').map((call) => [call.id, call.at - t0])).toEqual([
      ['early', 10_000],
      ['absolute', 30_000],
      ['late', 60_000],
    ]);
    expect((await group.wait()).counts.timed_out).toBe(3);
  });

  it("ends timed_out, not failed, when a task's own cancel at the deadline settles before the group's alarm fires", async () => {
    // On real timers a clock turn can outlast a cancel on loopback (seen in examples/agent-pipeline.ts):
    // here a 0 ms timer takes 5 ms, and the cancel 1 ms, so the task settles first.
    const base = fakeClock();
    const clock = { ...base, clock: { ...base.clock, setTimeout: (fn: () => void, ms: number) => base.clock.setTimeout(fn, ms === 0 ? 5 : ms) } };
    const { fake, backend, manager, ref } = setup({ clock });
    backend.latencyMs = 1;
    backend.add('a', 3_600_000);
    const group = manager.group({ timeoutMs: 60_000 });
    let result: GroupResult | undefined;
    void group.track(ref('a')).done.then(async () => (result = await group.wait()));

    await fake.tickAsync(61_000);

    expect(result?.outcome).toBe('timed_out');
    expect(outcomes(result!)).toEqual(['a:timed_out']);
    expect(group.closed).toBe('timed_out');
  });

  it('drops the starts still queued at its deadline, never creating them', async () => {
    const { fake, manager, calls, t0 } = setup();
    const group = manager.group({ timeoutMs: 60_000, maxConcurrent: 2 });
    const starts = Array.from({ length: 5 }, () => observe(group.start('job', {})));

    await fake.tickAsync(61_000);

    expect(calls('create')).toHaveLength(2);
    expect(calls('cancel').map((call) => call.at - t0)).toEqual([60_000, 60_000]);
    for (const queued of starts.slice(2)) expect(await rejection(queued)).toMatchObject({ name: 'GroupClosedError', reason: 'timed_out' });
    const result = await group.wait();
    expect(result.outcome).toBe('timed_out');
    expect(result.counts).toMatchObject({ timed_out: 2, dropped: 3 });
  });

  it("takes the manager's defaultTimeoutMs as a task's own deadline when the task has none", async () => {
    const { backend, manager, ref, t0 } = setup({ defaultTimeoutMs: 20_000 });
    backend.add('a', 3_600_000);
    backend.add('b', 3_600_000);
    expect(manager.group({ timeoutMs: 60_000 }).track(ref('a')).deadline).toBe(t0 + 20_000);
    expect(manager.group({ timeoutMs: 5_000 }).track(ref('b')).deadline).toBe(t0 + 5_000);
  });
});

describe('TaskGroup nesting', () => {
  it("clips a child's deadline to its parent's, and cancelling the parent cancels the child's tasks and queued starts", async () => {
    const { fake, backend, manager, ref, calls } = setup();
    const parent = manager.group({ timeoutMs: 30_000, name: 'pipeline' });
    const child = parent.group({ timeoutMs: 60_000, maxConcurrent: 1 });
    expect(child.deadline).toBe(parent.deadline);
    backend.add('tracked', 3_600_000);
    backend.add('own', 3_600_000);
    const starts = [child.start('job', {}), child.start('job', {}), child.start('job', {})].map(observe);
    const tracked = child.track(ref('tracked'));
    parent.track(ref('own'));
    await fake.tickAsync(100);
    expect(calls('create')).toHaveLength(1);
    const first = await starts[0]!;
    expect(first.deadline).toBe(parent.deadline);
    expect(tracked.deadline).toBe(parent.deadline);

    const [cancel] = await Promise.all([parent.cancel(), fake.tickAsync(100)]);
    expect(cancel.counts).toEqual({ cancelled: 3, alreadyDone: 0, failed: 0 });
    expect(child.closed).toBe('cancelled');
    for (const queued of starts.slice(1)) {
      const error = await rejection(queued);
      expect(error).toBeInstanceOf(GroupClosedError);
      expect(error).toMatchObject({ reason: 'cancelled', group: 'pipeline' });
    }
    await expect(child.start('job', {})).rejects.toBeInstanceOf(GroupClosedError);
    expect(() => parent.group()).toThrow(GroupClosedError);
    await fake.tickAsync(1_000);

    expect(calls('create')).toHaveLength(1);
    expect(calls('cancel')).toHaveLength(3);
    const [parentResult, childResult] = await Promise.all([parent.wait(), child.wait()]);
    expect(parentResult.outcome).toBe('cancelled');
    expect(outcomes(parentResult)).toEqual(['tracked:cancelled', 'own:cancelled', 'job-0:cancelled']);
    expect(parentResult.counts).toMatchObject({ cancelled: 3, dropped: 3 });
    expect(childResult.outcome).toBe('cancelled');
    expect(outcomes(childResult)).toEqual(['tracked:cancelled', 'job-0:cancelled']);
  });

  it("times out only the child's tasks at a child's earlier deadline", async () => {
    const { fake, backend, manager, ref, calls, t0 } = setup();
    const parent = manager.group({ timeoutMs: 60_000 });
    const child = parent.group({ timeoutMs: 10_000 });
    backend.add('inner', 3_600_000);
    backend.add('outer', 3_600_000);
    child.track(ref('inner'));
    parent.track(ref('outer'));

    await fake.tickAsync(11_000);
    expect(child.closed).toBe('timed_out');
    expect(parent.closed).toBeUndefined();
    expect((await child.wait()).outcome).toBe('timed_out');
    expect(parent.active()).toEqual([ref('outer')]);

    await fake.tickAsync(50_000);
    expect(calls('cancel').map((call) => [call.id, call.at - t0])).toEqual([
      ['inner', 10_000],
      ['outer', 60_000],
    ]);
    expect((await parent.wait()).counts.timed_out).toBe(2);
  });

  it("counts a child's started tasks against its parent's maxConcurrent", async () => {
    const { fake, manager, calls } = setup();
    const parent = manager.group({ maxConcurrent: 2 });
    const child = parent.group();
    void parent.start('job', { durationMs: 1_000 });
    const starts = [child.start('job', { durationMs: 1_000 }), child.start('job', { durationMs: 1_000 })];
    await fake.tickAsync(100);
    expect(calls('create')).toHaveLength(2);
    await fake.tickAsync(1_500);
    expect(calls('create')).toHaveLength(3);
    await fake.tickAsync(3_000);
    await Promise.all(starts);
    expect((await parent.wait()).counts.completed).toBe(3);
  });
});

describe('TaskGroup failFast', () => {
  it('cancels the other tasks and drops the queued starts when a task fails', async () => {
    const { fake, manager, calls } = setup();
    const group = manager.group({ failFast: true, maxConcurrent: 2 });
    const starts = [
      group.start('job', { durationMs: 2_000, outcome: 'failed' }),
      group.start('job', {}),
      group.start('job', {}),
      group.start('job', {}),
    ].map(observe);

    await fake.tickAsync(5_000);

    expect(calls('create')).toHaveLength(2);
    expect(calls('cancel').map((call) => call.id)).toEqual(['job-1']);
    for (const queued of starts.slice(2)) expect(await rejection(queued)).toMatchObject({ name: 'GroupClosedError', reason: 'failed' });
    const result = await group.wait();
    expect(result.outcome).toBe('failed');
    expect(outcomes(result)).toEqual(['job-0:failed', 'job-1:cancelled']);
    expect(result.counts).toMatchObject({ failed: 1, cancelled: 1, dropped: 2 });
  });

  it('without failFast, leaves the other tasks running after a failure and ends failed', async () => {
    const { fake, backend, manager, ref, calls } = setup();
    const group = manager.group();
    backend.add('bad', 500, 'failed');
    backend.add('good', 3_000);
    group.track(ref('bad'));
    group.track(ref('good'));

    await fake.tickAsync(10_000);

    expect(calls('cancel')).toEqual([]);
    const result = await group.wait();
    expect(result.outcome).toBe('failed');
    expect(result.counts).toMatchObject({ failed: 1, completed: 1 });
  });
});

describe('TaskGroup maxConcurrent', () => {
  it('never runs more than maxConcurrent started tasks at once, and starts the next as one settles', async () => {
    const { fake, manager, calls, settledAt } = setup();
    const group = manager.group({ maxConcurrent: 3 });
    const durations = [500, 1_500, 800, 2_000, 300, 1_200, 700, 900, 400, 1_000];
    const starts = durations.map((durationMs) => group.start('job', { durationMs }));
    await fake.tickAsync(100);
    expect(calls('create')).toHaveLength(3);

    await fake.tickAsync(30_000);

    const creates = calls('create');
    expect(creates).toHaveLength(10);
    // Running at each create: the creates so far, less the tasks settled by then.
    const running = creates.map(({ at }) => creates.filter((c) => c.at <= at).length - [...settledAt.values()].filter((t) => t <= at).length);
    expect(Math.max(...running)).toBe(3);
    expect((await Promise.all(starts)).map((handle) => handle.ref.id)).toEqual(creates.map((c) => c.id));
    expect((await group.wait()).counts.completed).toBe(10);
  });

  it("rejects a queued start at once when its own signal aborts, and never creates it", async () => {
    const { fake, manager, calls } = setup();
    const group = manager.group({ maxConcurrent: 1 });
    const running = group.start('job', { durationMs: 5_000 });
    const controller = new AbortController();
    const queued = observe(group.start('job', {}, { signal: controller.signal }));
    await fake.tickAsync(100);

    controller.abort(new Error('the caller went away'));

    expect(await rejection(queued)).toMatchObject({ message: 'the caller went away' });
    await fake.tickAsync(10_000);
    expect(calls('create')).toHaveLength(1);
    expect((await (await running).done).outcome).toBe('completed');
    const result = await group.wait();
    expect(result.outcome).toBe('completed');
    expect(result.counts).toMatchObject({ completed: 1, dropped: 0 });
  });
});

describe('TaskGroup at scale', () => {
  it('cancels the live tasks of a 1,000-task group at its deadline with one request each, in one bulk cancel', async () => {
    const { fake, backend, manager, ref, calls, t0 } = setup({ maxPollMs: 10_000 });
    const group = manager.group({ timeoutMs: 60_000 });
    for (let i = 0; i < 1_000; i++) {
      backend.add(`t${i}`, i % 10 < 3 ? 20_000 : 3_600_000);
      group.track(ref(`t${i}`));
    }
    await fake.tickAsync(59_000);
    const alive = group.active();
    expect(alive).toHaveLength(700);
    expect(calls('cancel')).toEqual([]);
    const cancelMany = vi.spyOn(manager, 'cancelMany');

    await fake.tickAsync(3_000);

    const cancels = calls('cancel');
    expect(cancels).toHaveLength(alive.length);
    expect(new Set(cancels.map((call) => call.id)).size).toBe(alive.length);
    expect(cancels.every((call) => call.at >= t0 + 60_000)).toBe(true);
    expect(cancelMany).toHaveBeenCalledTimes(1);
    expect(cancelMany.mock.calls[0]?.[0]).toHaveLength(alive.length);
    const result = await group.wait();
    expect(result.outcome).toBe('timed_out');
    expect(result.counts).toMatchObject({ completed: 300, timed_out: 700, cancelled: 0 });
    expect(result.results.map((r) => r.id)).toEqual(Array.from({ length: 1_000 }, (_, i) => `t${i}`));
  });
});

describe('TaskGroup budget', () => {
  it('cancels every task and drops the queued starts at the moment the budget is reached, creating nothing more', async () => {
    const { fake, manager, calls, t0 } = setup();
    const group = manager.group({ maxConcurrent: 2, budget: { taskMinutes: 3 } });
    const starts = Array.from({ length: 6 }, () => observe(group.start('job', { durationMs: 600_000 })));

    await fake.tickAsync(120_000);

    // Both tasks joined at t0 + 10 (the create's latency) and run at 2 task-minutes a minute: 3 are
    // spent 90 s later. Their cancels take 10 ms, and the time runs on until they are confirmed.
    expect(calls('create')).toHaveLength(2);
    expect(calls('cancel').map((call) => call.at - t0)).toEqual([90_010, 90_010]);
    for (const queued of starts.slice(2)) expect(await rejection(queued)).toMatchObject({ name: 'GroupClosedError', reason: 'over_budget' });
    const result = await group.wait();
    expect(result.outcome).toBe('over_budget');
    expect(result.counts).toMatchObject({ cancelled: 2, dropped: 4 });
    expect(result.taskMinutes).toBeCloseTo((2 * (90_020 - 10)) / 60_000, 9);
    expect(group.closed).toBe('over_budget');
  });

  it('re-arms the budget check when the number of running tasks changes', async () => {
    const { fake, backend, manager, ref, calls, t0 } = setup();
    const group = manager.group({ budget: { taskMinutes: 3 } });
    backend.add('a', 3_600_000);
    group.track(ref('a'));
    await fake.tickAsync(60_000);
    backend.add('b', 3_600_000);
    group.track(ref('b'));

    await fake.tickAsync(120_000);

    // One task-minute by the time b joins; the two left go at two a minute.
    expect(calls('cancel').map((call) => [call.id, call.at - t0])).toEqual([
      ['a', 120_000],
      ['b', 120_000],
    ]);
    expect((await group.wait()).outcome).toBe('over_budget');
  });
});

describe('TaskGroup signal', () => {
  it("cancels the group's tasks when its signal aborts, and refuses later starts", async () => {
    const { fake, backend, manager, ref, calls } = setup();
    const controller = new AbortController();
    const group = manager.group({ signal: controller.signal });
    backend.add('tracked', 3_600_000);
    group.track(ref('tracked'));
    const started = [group.start('job', {}), group.start('job', {})];
    await fake.tickAsync(1_000);

    controller.abort();
    await fake.tickAsync(1_000);

    expect(calls('cancel').map((call) => call.id).sort()).toEqual(['job-0', 'job-1', 'tracked']);
    for (const handle of await Promise.all(started)) expect((await handle.done).outcome).toBe('cancelled');
    expect(await rejection(group.start('job', {}))).toMatchObject({ name: 'GroupClosedError', reason: 'cancelled' });
    expect(calls('create')).toHaveLength(2);
    const result = await group.wait();
    expect(result.outcome).toBe('cancelled');
    expect(result.counts).toMatchObject({ cancelled: 3, dropped: 1 });
  });
});

describe('TaskGroup wait', () => {
  it('resolves once every started, queued and tracked task has settled, in join order, with counts and task-minutes', async () => {
    const { fake, backend, manager, ref, settledAt } = setup();
    const joinedAt = new Map<string, number>();
    manager.on('tracked', ({ ref: { id } }) => joinedAt.set(id, fake.now));
    const group = manager.group({ maxConcurrent: 1 });
    backend.add('gone', 3_600_000);
    backend.failures.push({ op: 'status', error: new NotFoundError(404, 'not found', { body: {}, method: 'GET', path: '/x' }) });
    group.track(ref('gone'));
    await fake.tickAsync(50);
    const startA = group.start('job', { durationMs: 1_000 });
    const startB = group.start('job', { durationMs: 200 });
    backend.add('bad', 500, 'failed');
    group.track(ref('bad'));
    const refused = observe(group.start('job', { fail: true }));

    let result: GroupResult | undefined;
    void group.wait().then((r) => (result = r));
    await fake.tickAsync(1_100);
    expect(result).toBeUndefined(); // the second start still waits for its slot, then runs
    await fake.tickAsync(10_000);

    expect(await rejection(refused)).toMatchObject({ message: expect.stringMatching(/refused/) });
    expect(result).toBeDefined();
    expect(result!.outcome).toBe('failed');
    expect(outcomes(result!)).toEqual(['gone:lost', 'bad:failed', 'job-0:completed', 'job-1:completed']);
    expect(result!.counts).toEqual({ completed: 2, failed: 1, cancelled: 0, timed_out: 0, interrupted: 0, lost: 1, error: 0, dropped: 0 });
    const spent = [...joinedAt].reduce((sum, [id, at]) => sum + (settledAt.get(id)! - at), 0);
    expect(result!.taskMinutes).toBeCloseTo(spent / 60_000, 9);
    await expect(Promise.all([startA, startB])).resolves.toHaveLength(2);
  });

  it('resolves at once for a group with no work, as completed', async () => {
    const { manager } = setup();
    await expect(manager.group().wait()).resolves.toEqual({
      outcome: 'completed',
      results: [],
      counts: { completed: 0, failed: 0, cancelled: 0, timed_out: 0, interrupted: 0, lost: 0, error: 0, dropped: 0 },
      taskMinutes: 0,
    });
  });
});

describe('TaskGroup timers', () => {
  it('holds no timer once its tasks have settled, and notices a deadline that passed while it was idle', async () => {
    const { fake, backend, manager, ref, calls } = setup();
    const controller = new AbortController();
    const group = manager.group({ timeoutMs: 3_600_000, budget: { taskMinutes: 600 }, signal: controller.signal });
    backend.add('a', 1_000);
    group.track(ref('a'));
    expect(fake.countTimers()).toBeGreaterThan(1);
    await fake.tickAsync(5_000);
    expect(fake.countTimers()).toBe(0);
    expect((await group.wait()).outcome).toBe('completed');

    fake.setSystemTime(fake.now + 3_600_000);
    expect(group.closed).toBe('timed_out');
    expect(await rejection(group.start('job', {}))).toMatchObject({ reason: 'timed_out' });
    expect(calls('create')).toEqual([]);
    const result = await group.wait();
    expect(result.outcome).toBe('timed_out');
    expect(result.counts).toMatchObject({ completed: 1, dropped: 1 });
  });

  it('cancels at once a task tracked into a group that was cancelled', async () => {
    const { fake, backend, manager, ref, calls } = setup();
    const group = manager.group();
    await group.cancel();
    backend.add('late', 3_600_000);
    const handle = group.track(ref('late'));
    await fake.tickAsync(100);
    expect((await handle.done).outcome).toBe('cancelled');
    expect(calls('cancel').map((call) => call.id)).toEqual(['late']);
    expect(outcomes(await group.wait())).toEqual(['late:cancelled']);
  });
});

describe('TaskGroup options', () => {
  it('refuses bad options with an error that names the option', () => {
    const { manager } = setup();
    expect(() => manager.group({ maxConcurrent: 0 })).toThrow(/group\.maxConcurrent/);
    expect(() => manager.group({ maxConcurrent: 1.5 })).toThrow(RangeError);
    expect(() => manager.group({ timeoutMs: -1 })).toThrow(/group\.timeoutMs/);
    expect(() => manager.group({ deadline: Number.NaN })).toThrow(/group\.deadline/);
    expect(() => manager.group({ budget: { taskMinutes: 0 } })).toThrow(/group\.budget\.taskMinutes/);
    expect(() => manager.group({ failFast: 'yes' as never })).toThrow(/group\.failFast/);
    expect(() => manager.group({ signal: {} as never })).toThrow(/group\.signal/);
    expect(() => manager.group({ name: 42 as never })).toThrow(/group\.name/);
  });
});

describe('TaskGroup with a durable store', () => {
  it("a new manager recovering the journal after a crash enforces the group's deadline on a task tracked through the group", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskguard-groups-'));
    dirs.push(dir);
    const path = join(dir, 'tasks.jsonl');
    const shared = fakeClock();
    const first = setup({ clock: shared, store: new FileStore({ path }) });
    await first.manager.ready();
    const group = first.manager.group({ timeoutMs: 60_000 });
    first.backend.add('a', 3_600_000);
    expect(group.track(first.ref('a'), { timeoutMs: 3_600_000 }).deadline).toBe(group.deadline);
    await shared.fake.tickAsync(1_000);
    await first.manager.close(); // as a crash leaves it: the record stays in the journal, the task runs on

    const second = new TaskManager({ backends: { job: first.backend }, clock: shared.clock, store: new FileStore({ path }), poll: { initialMs: 100, jitter: 0 } });
    managers.push(second);
    const settled = new Promise<TaskResult>((resolve) => second.once('settled', resolve));
    const report = await second.recover({ policy: 'resume' });
    expect(report.claimed).toEqual([first.ref('a')]);

    await shared.fake.tickAsync(60_000);

    expect(await settled).toMatchObject({ id: 'a', outcome: 'timed_out' });
    expect(first.calls('cancel').map((call) => call.at)).toEqual([group.deadline]);
  });
});
