import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  AgentClient,
  AuthenticationError,
  ManagerClosedError,
  NotFoundError,
  RateLimitError,
  TaskManager,
  TaskTimeoutError,
  ValidationError,
  type NormalizedStatus,
  type TaskManagerEvents,
  type TaskRef,
  type TaskResult,
} from '../src/index.js';
import { scriptedManager } from './helpers/fake-backend.js';

function setup(options: { concurrency?: number; jitter?: number } = {}) {
  return scriptedManager(options);
}

const rateLimited = (retryAfterMs: number) =>
  new RateLimitError(429, '429', { body: {}, method: 'GET', path: '/x', retryAfterMs });

describe('TaskManager tracking', () => {
  it('settles a task that completes with outcome completed and its raw status', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 1_000);
    const handle = manager.track(ref('a'));
    await fake.tickAsync(5_000);
    await expect(handle.done).resolves.toEqual({ kind: 'job', id: 'a', outcome: 'completed', status: 'completed' });
    expect(manager.active()).toEqual([]);
  });

  it('returns the same handle when the same ref is tracked twice', () => {
    const { backend, manager, ref } = setup();
    backend.add('a', 1_000);
    expect(manager.track(ref('a'))).toBe(manager.track(ref('a')));
    expect(manager.active()).toHaveLength(1);
    manager.close();
  });

  it('maps every terminal state to its outcome', async () => {
    const { fake, backend, manager, ref } = setup();
    const states = ['completed', 'failed', 'cancelled', 'interrupted'] as const;
    for (const state of states) backend.add(state, 500, state);
    const dones = states.map((s) => manager.track(ref(s)).done);
    await fake.tickAsync(3_000);
    const results = await Promise.all(dones);
    expect(results.map((r) => r.outcome)).toEqual(['completed', 'failed', 'cancelled', 'interrupted']);
  });

  it('polls with exponential backoff up to the cap', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    manager.track(ref('a'));
    await fake.tickAsync(10_000);
    const times = backend.calls.filter((c) => c.op === 'status').map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Each gap is the backoff delay plus the 10 ms the previous request took.
    expect(gaps.slice(0, 6)).toEqual([110, 210, 410, 810, 1_610, 1_610]);
    manager.close();
  });

  it('resets to fast polling when the status changes', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    manager.track(ref('a'));
    await fake.tickAsync(5_000);
    backend.tasks.get('a')!.raw = 'saving';
    const before = backend.calls.length;
    await fake.tickAsync(1_700);
    const afterChange = backend.calls.slice(before).map((c) => c.at);
    expect(afterChange[1]! - afterChange[0]!).toBe(110);
    manager.close();
  });

  it('keeps at most one timer armed whatever the number of tasks', async () => {
    const { fake, backend, manager, ref } = setup({ concurrency: 4, jitter: 1 });
    for (let i = 0; i < 500; i++) {
      backend.add(`t${i}`, 1_000 + i * 10);
      manager.track(ref(`t${i}`), { timeoutMs: 3_000 + i });
    }
    // Counted on the clock itself, not by the manager: every timer but one per backend request in flight is the manager's.
    const managerTimers = (): number => fake.countTimers() - backend.inFlightTotal;
    const seen: number[] = [];
    while (manager.stats().tracked > 0) {
      seen.push(managerTimers());
      await fake.tickAsync(25);
    }
    expect(seen.length).toBeGreaterThan(100);
    expect(Math.max(...seen)).toBe(1);
    expect(manager.stats()).toMatchObject({ tracked: 0, timersArmed: 0, requests: 0 });
    expect(fake.countTimers()).toBe(0);
  });

  it('never has two requests of one task in flight and never exceeds the concurrency cap', async () => {
    const { fake, backend, manager, ref } = setup({ concurrency: 3, jitter: 1 });
    for (let i = 0; i < 40; i++) {
      backend.add(`t${i}`, 500 + i * 50);
      manager.track(ref(`t${i}`), { timeoutMs: 800 + (i % 7) * 100 });
    }
    await fake.tickAsync(50);
    void manager.cancelMany([ref('t1'), ref('t2'), ref('t3')]);
    await fake.runAllAsync();
    expect(backend.maxInFlightPerTask).toBe(1);
    expect(backend.peakInFlight).toBeLessThanOrEqual(3);
  });

  it('makes no request for a task after it settled', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 300);
    const result = await Promise.all([manager.track(ref('a')).done, fake.tickAsync(2_000)]);
    const settledAt = fake.now - 2_000 + 300;
    await fake.tickAsync(10_000);
    expect(result[0].outcome).toBe('completed');
    expect(backend.calls.filter((c) => c.at > settledAt + 1_000)).toEqual([]);
  });
});

describe('TaskManager deadlines', () => {
  it('cancels a task at its deadline and settles it as timed_out', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('slow', 60_000);
    const timeouts: unknown[] = [];
    manager.on('timeout', (e) => timeouts.push(e));
    const handle = manager.track(ref('slow'), { timeoutMs: 2_000 });
    await fake.tickAsync(2_100);
    const result = await handle.done;
    expect(result).toEqual({ kind: 'job', id: 'slow', outcome: 'timed_out', status: 'cancelled' });
    expect(timeouts).toEqual([{ ref: ref('slow'), deadline: handle.deadline }]);
    expect(backend.calls.filter((c) => c.op === 'cancel')).toHaveLength(1);
    expect(backend.calls.find((c) => c.op === 'cancel')!.at - (handle.deadline ?? 0)).toBeLessThanOrEqual(10);
  });

  it('accepts an absolute deadline and keeps the earlier of two', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    const handle = manager.track(ref('a'), { deadline: new Date(fake.now + 5_000), timeoutMs: 1_000 });
    expect(handle.deadline).toBe(fake.now + 1_000);
    manager.track(ref('a'), { timeoutMs: 500 });
    expect(handle.deadline).toBe(fake.now + 500);
    manager.close();
  });

  it('retries a cancel that keeps failing, emitting cancelFailed, and keeps the task tracked', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    backend.refuseCancel = true;
    const failed: number[] = [];
    manager.on('cancelFailed', (e) => failed.push(e.attempts));
    manager.track(ref('a'), { timeoutMs: 1_000 });
    await fake.tickAsync(5_000);
    expect(failed.slice(0, 3)).toEqual([1, 2, 3]);
    expect(manager.active()).toEqual([ref('a')]);
    backend.refuseCancel = false;
    await fake.tickAsync(5_000);
    expect(manager.active()).toEqual([]);
  });

  it('wait() rejects with TaskTimeoutError after cancelling, and resolves for any other outcome', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('slow', 60_000);
    backend.add('quick', 200, 'failed');
    const slow = manager.wait(ref('slow'), { timeoutMs: 1_000 });
    const quick = manager.wait(ref('quick'), { timeoutMs: 1_000 });
    const assertion = expect(slow).rejects.toBeInstanceOf(TaskTimeoutError);
    await fake.tickAsync(2_000);
    await assertion;
    await expect(quick).resolves.toMatchObject({ outcome: 'failed' });
    expect(backend.tasks.get('slow')!.state).toBe('cancelled');
  });
});

describe('TaskManager errors while polling', () => {
  it('ends a task the API no longer knows as lost', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    backend.failures.push({ op: 'status', error: new NotFoundError(404, 'gone', { body: {}, method: 'GET', path: '/x' }) });
    const done = manager.track(ref('a')).done;
    await fake.tickAsync(100);
    const result = await done;
    expect(result.outcome).toBe('lost');
    expect(result.error).toBeInstanceOf(NotFoundError);
  });

  it('ends a task with outcome error on a 401, with the typed error', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    backend.failures.push({ op: 'status', error: new AuthenticationError(401, 'no', { body: {}, method: 'GET', path: '/x' }) });
    const done = manager.track(ref('a')).done;
    await fake.tickAsync(100);
    expect((await done).error).toBeInstanceOf(AuthenticationError);
  });

  it('backs off on transient errors and goes on polling', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 2_000);
    for (let i = 0; i < 3; i++) backend.failures.push({ op: 'status', error: new Error('flaky') });
    const errors: unknown[] = [];
    manager.on('error', (e) => errors.push(e.error));
    const done = manager.track(ref('a')).done;
    await fake.tickAsync(10_000);
    expect((await done).outcome).toBe('completed');
    expect(errors).toHaveLength(3);
  });

  it("holds every task's polls back for a 429's Retry-After", async () => {
    const { fake, backend, manager, ref } = setup();
    for (const id of ['a', 'b', 'c']) backend.add(id, 60_000);
    manager.track(ref('a'));
    await fake.tickAsync(500);
    backend.failures.push({ op: 'status', error: rateLimited(5_000) });
    manager.track(ref('b'));
    manager.track(ref('c'));
    await fake.tickAsync(20);
    const limitedAt = fake.now;
    await fake.tickAsync(4_900);
    expect(backend.calls.filter((c) => c.at > limitedAt && c.at < limitedAt + 4_900)).toEqual([]);
    manager.close();
  });
});

describe('TaskManager signals and events', () => {
  it('cancels the remote task when the caller signal aborts', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    const controller = new AbortController();
    const done = manager.track(ref('a'), { signal: controller.signal }).done;
    await fake.tickAsync(300);
    controller.abort();
    await fake.tickAsync(100);
    expect(await done).toMatchObject({ outcome: 'cancelled', status: 'cancelled' });
  });

  it('keeps working when a listener throws, reporting the throw as an error event', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 300);
    const errors: unknown[] = [];
    manager.on('status', () => {
      throw new Error('listener bug');
    });
    manager.on('error', (e) => errors.push(e.error));
    const done = manager.track(ref('a')).done;
    await fake.tickAsync(2_000);
    expect((await done).outcome).toBe('completed');
    expect(errors.map((e) => (e as Error).message)).toContain('listener bug');
  });

  it('types its events', () => {
    expectTypeOf<TaskManagerEvents['settled']>().toEqualTypeOf<[result: TaskResult]>();
    expectTypeOf<TaskManagerEvents['status'][0]['status']>().toEqualTypeOf<NormalizedStatus>();
    // What `on` hands a listener, checked on the listener's type rather than inside one that never runs.
    const { manager } = setup();
    expectTypeOf(manager.on<'timeout'>).parameter(1).parameter(0).toEqualTypeOf<{ readonly ref: TaskRef; readonly deadline: number }>();
    manager.close();
  });
});

describe('TaskManager bulk cancel', () => {
  it('resolves one entry per ref in input order, cancels duplicates once and counts them', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 60_000);
    backend.add('b', 100);
    backend.add('untracked', 60_000);
    manager.track(ref('a'));
    manager.track(ref('b'));
    await fake.tickAsync(1_000);
    const bulk = manager.cancelMany([ref('a'), ref('untracked'), ref('a'), { kind: 'nope', id: 'x' }]);
    await fake.tickAsync(100);
    const { results, counts } = await bulk;
    expect(results.map((r) => [r.ref.id, r.status])).toEqual([
      ['a', 'fulfilled'],
      ['untracked', 'fulfilled'],
      ['a', 'fulfilled'],
      ['x', 'rejected'],
    ]);
    expect(results[3]).toMatchObject({ status: 'rejected', reason: expect.any(ValidationError) });
    expect(counts).toEqual({ cancelled: 3, alreadyDone: 0, failed: 1 });
    expect(backend.calls.filter((c) => c.op === 'cancel' && c.id === 'a')).toHaveLength(1);
    expect(backend.tasks.get('untracked')!.state).toBe('cancelled');
  });

  it('counts a task that had already finished as alreadyDone', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('done', 0);
    await fake.tickAsync(10);
    const bulk = manager.cancelMany([ref('done')]);
    await fake.tickAsync(100);
    expect((await bulk).counts).toEqual({ cancelled: 0, alreadyDone: 1, failed: 0 });
  });

  it('lowers but never raises the concurrency of a bulk cancel', async () => {
    for (const [cap, asked, expected] of [[4, 2, 2], [4, 50, 4]] as const) {
      const { fake, backend, manager, ref } = setup({ concurrency: cap });
      const refs = Array.from({ length: 20 }, (_, i) => (backend.add(`t${i}`, 60_000), ref(`t${i}`)));
      const bulk = manager.cancelMany(refs, { concurrency: asked });
      await fake.runAllAsync();
      expect((await bulk).counts.cancelled).toBe(20);
      expect(backend.peakInFlight).toBe(expected);
    }
  });

  it('never rejects as a whole, even when every cancel fails', async () => {
    const { fake, backend, manager, ref } = setup();
    const bulk = manager.cancelMany([ref('missing1'), ref('missing2')]);
    await fake.tickAsync(100);
    const result = await bulk;
    expect(result.counts).toEqual({ cancelled: 0, alreadyDone: 0, failed: 2 });
    expect(backend.calls).toHaveLength(2);
  });
});

describe('TaskManager shutdown', () => {
  it('cancels every active task, reports it, stops accepting work and leaves no timer', async () => {
    const { fake, backend, manager, ref } = setup();
    for (const id of ['a', 'b', 'c']) {
      backend.add(id, 60_000);
      manager.track(ref(id));
    }
    backend.add('done-soon', 100);
    manager.track(ref('done-soon'));
    await fake.tickAsync(150);
    const reports: unknown[] = [];
    manager.on('shutdown', (r) => reports.push(r));
    const shutdown = manager.shutdown({ graceMs: 5_000 });
    expect(manager.shutdown()).toBe(shutdown);
    expect(() => manager.track(ref('late'))).toThrow(ManagerClosedError);
    await fake.tickAsync(200);
    const report = await shutdown;
    expect(report.settled.map((r) => [r.id, r.outcome]).sort()).toEqual([['a', 'cancelled'], ['b', 'cancelled'], ['c', 'cancelled']]);
    expect(report.unconfirmed).toEqual([]);
    expect(report.cancel.counts).toEqual({ cancelled: 3, alreadyDone: 0, failed: 0 });
    expect(reports).toEqual([report]);
    expect(fake.countTimers()).toBe(0);
  });

  it('reports the tasks whose cancel was not confirmed within the grace period', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('stuck', 60_000);
    backend.refuseCancel = true;
    const done = manager.track(ref('stuck')).done;
    await fake.tickAsync(50);
    const shutdown = manager.shutdown({ graceMs: 1_000 });
    await fake.tickAsync(1_000);
    const report = await shutdown;
    expect(report.unconfirmed).toEqual([ref('stuck')]);
    expect(report.durationMs).toBe(1_000);
    expect((await done).error).toBeInstanceOf(ManagerClosedError);
    expect(fake.countTimers()).toBe(0);
  });
});

describe('TaskManager start', () => {
  it('creates a task through the backend and tracks it, keeping the create response', async () => {
    const { fake, manager } = setup();
    const starting = manager.start('job', { durationMs: 500 }, { timeoutMs: 10_000 });
    await fake.tickAsync(10);
    const task = await starting;
    expect(task.created).toEqual({ id: 'created-0' });
    expect(manager.active()).toEqual([task.ref]);
    await fake.tickAsync(2_000);
    expect((await task.done).outcome).toBe('completed');
  });

  it('cancels a task whose create answered after shutdown began, instead of orphaning it', async () => {
    const { fake, backend, manager } = setup();
    const starting = manager.start('job', { durationMs: 60_000 });
    const shutdown = manager.shutdown({ graceMs: 5_000 });
    await fake.tickAsync(100);
    const task = await starting;
    expect(await task.done).toMatchObject({ outcome: 'cancelled' });
    expect(backend.tasks.get(task.ref.id)!.state).toBe('cancelled');
    const report = await shutdown;
    expect(report.unconfirmed).toEqual([]);
  });

  it('refuses to start after shutdown with ManagerClosedError', async () => {
    const { manager } = setup();
    await manager.shutdown();
    await expect(manager.start('job', { durationMs: 1 })).rejects.toBeInstanceOf(ManagerClosedError);
  });
});

describe('TaskManager options', () => {
  it('refuses bad options with an error that names the option', () => {
    expect(() => new TaskManager({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new TaskManager({ poll: { jitter: 2 } })).toThrow(/poll\.jitter/);
    expect(() => new TaskManager({ poll: { initialMs: 5_000, maxMs: 1_000 } })).toThrow(/poll\.maxMs/);
    expect(() => new TaskManager({ shutdown: { graceMs: -1 } })).toThrow(/shutdown\.graceMs/);
    expect(() => new TaskManager({ backends: { x: {} as never } })).toThrow(/backends\.x/);
  });

  it('refuses a ref of an unknown kind or with a bad id before any request', () => {
    const { manager, backend } = setup();
    expect(() => manager.track({ kind: 'agent', id: 'r' })).toThrow(/AgentClient/);
    expect(() => manager.track({ kind: 'job', id: '  ' })).toThrow(ValidationError);
    expect(() => manager.track({ kind: 'job', id: 'a\u0000b' })).toThrow(ValidationError);
    expect(() => manager.track({ kind: 'job', id: 'x'.repeat(257) })).toThrow(ValidationError);
    expect(backend.calls).toEqual([]);
  });

  it('takes a custom backend’s IDs that are not URL path segments, which the API kinds refuse', async () => {
    const { fake, backend, manager } = setup();
    for (const id of ['..', '1234/2', ' padded ']) backend.add(id, 100);
    const dones = ['..', '1234/2', ' padded '].map((id) => manager.track({ kind: 'job', id }).done);
    await fake.tickAsync(1_000);
    expect((await Promise.all(dones)).map((r) => r.outcome)).toEqual(['completed', 'completed', 'completed']);
    const agentManager = new TaskManager({ agent: new AgentClient({ apiKey: 'sk-test', baseUrl: 'http://127.0.0.1:9' }) });
    expect(() => agentManager.track({ kind: 'agent', id: '..' })).toThrow(ValidationError);
    await agentManager.close();
  });
});
