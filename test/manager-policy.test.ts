import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  InternalServerError,
  ManagerClosedError,
  MemoryStore,
  RateLimitError,
  TaskManager,
  type NormalizedStatus,
  type StoredTaskPatch,
  type TaskBackend,
  type TaskRef,
} from '../src/index.js';
import { fakeClock, ScriptedBackend, scriptedManager } from './helpers/fake-backend.js';

const DAY_MS = 86_400_000;

function setup(options: { concurrency?: number; maxRetryAfterMs?: number } = {}) {
  const made = scriptedManager(options);
  // Poll errors are expected here; listening keeps them out of the process warnings.
  const errors: unknown[] = [];
  made.manager.on('error', ({ error }) => errors.push(error));
  return { ...made, errors };
}

const rateLimited = (retryAfterMs: number) => new RateLimitError(429, '429', { body: {}, method: 'GET', path: '/x', retryAfterMs });
const serverError = () => new InternalServerError(500, '500', { body: {}, method: 'PATCH', path: '/x' });
const refused = () => new BadRequestError(400, '400 not in progress', { body: {}, method: 'PATCH', path: '/x' });

describe('the poll pause after a 429', () => {
  it('lasts at most maxRetryAfterMs even when the server asks for a day', async () => {
    const { fake, backend, manager, ref } = setup({ maxRetryAfterMs: 5_000 });
    for (const id of ['a', 'b']) backend.add(id, DAY_MS);
    manager.track(ref('a'));
    manager.track(ref('b'));
    await fake.tickAsync(500);
    backend.failures.push({ op: 'status', error: rateLimited(DAY_MS) });
    await fake.tickAsync(2_000);
    const limitedAt = backend.calls.filter((c) => c.op === 'status').at(-1)!.at;
    await fake.tickAsync(10_000);
    const after = backend.calls.filter((c) => c.op === 'status' && c.at > limitedAt + 10);
    // Both tasks are polled again once the capped pause is over: within 5 s (plus one backoff step).
    expect(after.length).toBeGreaterThan(0);
    for (const id of ['a', 'b']) {
      const next = after.find((c) => c.id === id);
      expect(next, `task ${id} polled again`).toBeDefined();
      expect(next!.at - limitedAt).toBeLessThanOrEqual(5_000 + 1_600 + 20);
    }
    manager.close();
  });

  it('uses the smaller of its own cap and the backend client’s', async () => {
    const { clock, fake } = fakeClock();
    const backend = new ScriptedBackend(fake);
    const capped: TaskBackend = { getStatus: backend.getStatus, cancel: backend.cancel, maxRetryAfterMs: 1_000 };
    const manager = new TaskManager({ backends: { job: capped }, clock, poll: { initialMs: 100, maxMs: 100, factor: 1, jitter: 0 } });
    manager.on('error', () => {});
    backend.add('a', DAY_MS);
    manager.track({ kind: 'job', id: 'a' });
    await fake.tickAsync(50);
    backend.failures.push({ op: 'status', error: rateLimited(DAY_MS) });
    await fake.tickAsync(200);
    const limitedAt = backend.calls.at(-1)!.at;
    await fake.tickAsync(1_500);
    const next = backend.calls.find((c) => c.at > limitedAt + 10);
    expect(next!.at - limitedAt).toBeLessThanOrEqual(1_000 + 20);
    manager.close();
  });

  it('does not hold back a deadline cancel', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', DAY_MS);
    backend.add('b', DAY_MS);
    manager.track(ref('a'));
    const b = manager.track(ref('b'), { timeoutMs: 3_000 });
    await fake.tickAsync(500);
    backend.failures.push({ op: 'status', error: rateLimited(60_000) });
    await fake.tickAsync(5_000);
    const cancel = backend.calls.find((c) => c.op === 'cancel' && c.id === 'b');
    expect(cancel, 'the deadline cancel went out during the pause').toBeDefined();
    expect(cancel!.at - (b.deadline ?? 0)).toBeLessThanOrEqual(1);
    expect(await b.done).toMatchObject({ outcome: 'timed_out', status: 'cancelled' });
    manager.close();
  });
});

describe('a deadline cancel and the task’s own poll in flight', () => {
  it('goes out at the deadline instead of waiting for a hung poll', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', DAY_MS);
    backend.opLatencyMs.status = DAY_MS;
    const handle = manager.track(ref('a'), { timeoutMs: 1_000 });
    await fake.tickAsync(2_000);
    const cancel = backend.calls.find((c) => c.op === 'cancel');
    expect(cancel?.at).toBe(handle.deadline);
    expect(await handle.done).toMatchObject({ outcome: 'timed_out', status: 'cancelled' });
    expect(backend.maxInFlightPerTask).toBe(1);
  });

  it('lets a user cancel wait for the poll’s answer, so the task never has two requests at once', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', DAY_MS);
    backend.opLatencyMs.status = 500;
    const handle = manager.track(ref('a'));
    await fake.tickAsync(100);
    const cancelled = handle.cancel();
    await fake.tickAsync(1_000);
    await expect(cancelled).resolves.toMatchObject({ result: 'cancelled' });
    const [poll, cancel] = backend.calls;
    expect(poll?.op).toBe('status');
    expect(cancel?.op).toBe('cancel');
    expect(cancel!.at).toBeGreaterThanOrEqual(poll!.at + 500);
  });
});

describe('confirm before cancelling again', () => {
  it('reads the status after a failed cancel and sends none again for a task that ended meanwhile', async () => {
    const { fake, backend, manager, ref } = setup();
    // It ends between the failed cancel's answer (1 010 ms) and the status read's (1 020 ms).
    backend.add('a', 1_015);
    const failed: number[] = [];
    manager.on('cancelFailed', (event) => failed.push(event.attempts));
    backend.failures.push({ op: 'cancel', error: serverError() });
    const handle = manager.track(ref('a'), { timeoutMs: 1_000 });
    const result = await (async () => {
      await fake.tickAsync(5_000);
      return handle.done;
    })();
    expect(result).toMatchObject({ outcome: 'timed_out', status: 'completed' });
    const after = backend.calls.filter((c) => c.at >= (handle.deadline ?? 0)).map((c) => c.op);
    expect(after).toEqual(['cancel', 'status']);
    expect(failed).toEqual([1]);
  });

  it('sends the cancel again, after a status read, while the task is still live', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', DAY_MS);
    backend.failures.push({ op: 'cancel', error: serverError() }, { op: 'cancel', error: serverError() });
    const handle = manager.track(ref('a'), { timeoutMs: 1_000 });
    await fake.tickAsync(10_000);
    expect(await handle.done).toMatchObject({ outcome: 'timed_out', status: 'cancelled' });
    const after = backend.calls.filter((c) => c.at >= (handle.deadline ?? 0)).map((c) => c.op);
    expect(after).toEqual(['cancel', 'status', 'cancel', 'status', 'cancel']);
  });

  it('settles a refused (400) cancel of a task that ended by its status, without a cancelFailed', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', 1_005);
    backend.failures.push({ op: 'cancel', error: refused() });
    const failed: unknown[] = [];
    manager.on('cancelFailed', (event) => failed.push(event));
    const handle = manager.track(ref('a'), { timeoutMs: 1_000 });
    await fake.tickAsync(3_000);
    expect(await handle.done).toMatchObject({ outcome: 'timed_out', status: 'completed' });
    expect(failed).toEqual([]);
    expect(backend.calls.filter((c) => c.op === 'cancel')).toHaveLength(1);
  });

  it('keeps a refused cancel of a task that has not started armed, and sends it once the task runs', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.add('a', DAY_MS);
    const task = backend.tasks.get('a')!;
    Object.assign(task, { state: 'pending', raw: 'pending' });
    backend.failures.push({ op: 'cancel', error: refused() });
    const handle = manager.track(ref('a'), { timeoutMs: 500 });
    await fake.tickAsync(3_000);
    // Still pending: one stop was refused and no other has been sent since; only status reads.
    expect(backend.calls.filter((c) => c.op === 'cancel')).toHaveLength(1);
    expect(manager.active()).toHaveLength(1);
    Object.assign(task, { state: 'running', raw: 'processing' });
    await fake.tickAsync(3_000);
    expect(await handle.done).toMatchObject({ outcome: 'timed_out', status: 'cancelled' });
    expect(backend.calls.filter((c) => c.op === 'cancel')).toHaveLength(2);
  });
});

describe('no silent failure', () => {
  class FailingWrites extends MemoryStore {
    override async update(_ref: TaskRef, _patch: StoredTaskPatch): Promise<void> {
      throw new Error('disk full');
    }
  }

  it('sends an error nobody listens for to the logger', async () => {
    const { clock, fake } = fakeClock();
    const backend = new ScriptedBackend(fake);
    const warned: unknown[][] = [];
    const manager = new TaskManager({ backends: { job: backend }, clock, store: new FailingWrites(), logger: { warn: (...args) => warned.push(args) } });
    backend.add('a', DAY_MS);
    manager.track({ kind: 'job', id: 'a' }, { timeoutMs: 60_000 });
    manager.track({ kind: 'job', id: 'a' }, { timeoutMs: 30_000 });
    await fake.tickAsync(10);
    await manager.close();
    // Both failed writes (the earlier deadline, the first status), none rate-limited: a logger gets all.
    expect(warned).toHaveLength(2);
    for (const [fields, message] of warned) {
      expect(message).toMatch(/job:a: StoreError: .*disk full/);
      expect(fields).toMatchObject({ ref: { kind: 'job', id: 'a' } });
    }
  });

  it('turns it into one TaskguardWarning per message and minute without a logger', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const { clock, fake } = fakeClock();
      const backend = new ScriptedBackend(fake);
      const manager = new TaskManager({ backends: { job: backend }, clock, store: new FailingWrites() });
      backend.add('unheard', DAY_MS);
      const ref = { kind: 'job', id: 'unheard' };
      manager.track(ref, { timeoutMs: 60_000 });
      manager.track(ref, { timeoutMs: 50_000 });
      manager.track(ref, { timeoutMs: 40_000 });
      await fake.tickAsync(10);
      await manager.close();
      await new Promise((resolve) => setImmediate(resolve));
      const ours = warnings.filter((w) => w.name === 'TaskguardWarning' && w.message.includes('job:unheard'));
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toContain('disk full');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('reports a store that cannot be opened once', async () => {
    class Unopenable extends MemoryStore {
      override async open(): Promise<void> {
        throw new Error('no such directory');
      }
      async subscribe(): Promise<() => Promise<void>> {
        return async () => {};
      }
    }
    const manager = new TaskManager({ store: new Unopenable() });
    const errors: unknown[] = [];
    manager.on('error', ({ error }) => errors.push(error));
    await expect(manager.ready()).rejects.toThrow(/no such directory/);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await manager.close();
    expect(errors).toHaveLength(1);
  });
});

describe('a create that answers after close()', () => {
  it('is not tracked, and the error names the task that exists', async () => {
    const { clock, fake } = fakeClock();
    let created = 0;
    const slow: TaskBackend = {
      getStatus: async (): Promise<NormalizedStatus> => ({ state: 'running', raw: 'running' }),
      cancel: async (): Promise<NormalizedStatus> => ({ state: 'cancelled', raw: 'cancelled' }),
      // Like a server whose answer is already on its way: the abort comes too late to stop it.
      create: () => new Promise((resolve) => fake.setTimeout(() => resolve({ id: `t${++created}`, created: {} }), 100)),
    };
    const manager = new TaskManager({ backends: { job: slow }, clock });
    const starting = manager.start('job', {});
    const outcome = starting.then(
      () => undefined,
      (error: unknown) => error,
    );
    await fake.tickAsync(50);
    await manager.close();
    await fake.tickAsync(100);
    const error = await outcome;
    expect(error).toBeInstanceOf(ManagerClosedError);
    expect((error as ManagerClosedError).ref).toEqual({ kind: 'job', id: 't1' });
    expect(manager.active()).toEqual([]);
  });
});

describe('cancelMany’s onSettled', () => {
  it('reports each entry as its cancel settles, duplicates together, matching the final result', async () => {
    const { fake, backend, manager, ref } = setup({ concurrency: 1 });
    for (const id of ['a', 'b']) backend.add(id, DAY_MS);
    backend.failures.push({ op: 'cancel', error: new Error('refused for good') });
    const seen: [number, string, string][] = [];
    const bulk = manager.cancelMany([ref('a'), ref('b'), ref('a')], {
      onSettled: (entry, index) => seen.push([index, entry.ref.id, entry.status]),
    });
    await fake.tickAsync(100);
    const result = await bulk;
    // a's cancel goes first (concurrency 1) and fails; b's follows; the duplicate a is reported with a.
    expect(seen).toEqual([
      [0, 'a', 'rejected'],
      [2, 'a', 'rejected'],
      [1, 'b', 'fulfilled'],
    ]);
    expect(result.results.map((entry) => entry.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
  });

  it('refuses an onSettled that is not a function', async () => {
    const { manager, ref } = setup();
    await expect(manager.cancelMany([ref('a')], { onSettled: 'progress' as never })).rejects.toThrow(TypeError);
  });
});
