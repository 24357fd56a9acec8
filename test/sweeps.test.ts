import { afterEach, describe, expect, it } from 'vitest';
import {
  AgentClient,
  CloudClient,
  InternalServerError,
  InvalidResponseError,
  TaskManager,
  type NormalizedStatus,
  type TaskManagerEvents,
  type TaskRef,
  type TaskResult,
} from '../src/index.js';
import { agentBackend, cloudBackend } from '../src/manager/backends.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { fakeClock } from './helpers/fake-backend.js';
import { ListingBackend } from './helpers/sweep-backend.js';

/** Polls back off to 1.6 s without jitter: a sweep comes every 1.6 s too. */
const POLL = { initialMs: 100, maxMs: 1_600, factor: 2, jitter: 0 } as const;

const managers: TaskManager[] = [];
afterEach(async () => {
  for (const manager of managers.splice(0)) await manager.close();
});

function setup(options: { sweep?: boolean } = {}) {
  const { clock, fake } = fakeClock();
  const backend = new ListingBackend(fake);
  const manager = new TaskManager({ backends: { job: backend }, clock, concurrency: 8, poll: { ...POLL, sweep: options.sweep ?? true } });
  managers.push(manager);
  const errors: unknown[] = [];
  manager.on('error', ({ error }) => errors.push(error));
  const statusEvents: TaskManagerEvents['status'][0][] = [];
  manager.on('status', (event) => statusEvents.push(event));
  const ref = (id: string): TaskRef => ({ kind: 'job', id });
  const t0 = fake.now;
  /** Tracks `n` tasks `task-0`… that run `durationMs`. */
  const trackMany = (n: number, durationMs: number, options: { timeoutMs?: number } = {}): Promise<TaskResult>[] =>
    Array.from({ length: n }, (_, i) => {
      backend.add(`task-${i}`, durationMs);
      return manager.track(ref(`task-${i}`), options).done;
    });
  return { fake, backend, manager, errors, statusEvents, ref, t0, trackMany };
}

describe('list sweeps', () => {
  it('finds an early end: the list leaves the task out, a status read confirms it, then it settles', async () => {
    const { fake, backend, manager, ref, t0, trackMany } = setup();
    trackMany(10, 600_000);
    backend.add('early', 5_000);
    const early = manager.track(ref('early')).done;
    let settledAt = 0;
    void early.then(() => (settledAt = fake.now));
    await fake.tickAsync(1_000);
    const readsBefore = backend.statusCalls('early');
    await fake.tickAsync(9_000);
    expect(await early).toEqual({ kind: 'job', id: 'early', outcome: 'completed', status: 'completed' });
    // Noticed by the first sweep after its end, within one interval and two requests' time.
    expect(settledAt - (t0 + 5_000)).toBeLessThanOrEqual(1_600 + 20);
    expect(backend.statusCalls('early') - readsBefore).toBe(1);
    // Once a sweep found each task idle (the first one met polls in flight), the list spared their polls.
    expect(backend.statusCalls(undefined, t0 + 2_000)).toBe(1);
    expect(backend.listCalls.length).toBeGreaterThanOrEqual(6);
  });

  it('asks far fewer requests per minute for N tasks than polling each of them', async () => {
    const perMinute = async (sweep: boolean): Promise<{ status: number; list: number }> => {
      const { fake, backend, t0, trackMany } = setup({ sweep });
      trackMany(50, 600_000);
      await fake.tickAsync(120_000);
      const list = backend.listCalls.filter((call) => call.at >= t0 + 60_000).length;
      return { status: backend.statusCalls(undefined, t0 + 60_000), list };
    };
    const swept = await perMinute(true);
    const polled = await perMinute(false);
    expect(polled).toEqual({ status: expect.any(Number), list: 0 });
    expect(polled.status).toBeGreaterThan(50 * 35);
    expect(swept.status).toBe(0);
    // One page a sweep, a sweep every 1.6 s: about 38 requests a minute instead of 50 tasks × 37.
    expect(swept.list).toBeLessThanOrEqual(39);
    expect(swept.status + swept.list).toBeLessThan(polled.status / 40);
  });

  it('falls back to polling each task when the list fails, says so, and sweeps again after a minute', async () => {
    const { fake, backend, errors, t0, trackMany } = setup();
    trackMany(20, 600_000);
    await fake.tickAsync(10_000);
    const failure = new InternalServerError(500, '500 GET /list: Internal server error', { method: 'GET', path: '/list', body: {} });
    backend.listError = failure;
    await fake.tickAsync(2_000);
    expect(errors).toEqual([failure]);
    const failedAt = backend.listCalls.at(-1)!.at;
    backend.listError = undefined;
    // Every task polls on its own again, from the failure on, at its backed-off cadence …
    await fake.tickAsync(20_000);
    for (let i = 0; i < 20; i++) expect(backend.calls.some((call) => call.id === `task-${i}` && call.at > failedAt && call.at <= failedAt + 1_610)).toBe(true);
    expect(backend.statusCalls(undefined, failedAt + 5_000)).toBeGreaterThan(20 * 8);
    // … and no list is asked for until the fallback minute is over.
    expect(backend.listCalls.filter((call) => call.at > failedAt && call.at < failedAt + 59_000)).toEqual([]);
    await fake.tickAsync(failedAt + 61_000 - fake.now);
    expect(backend.listCalls.at(-1)!.at).toBeGreaterThanOrEqual(failedAt + 60_000);
    const resumedAt = fake.now;
    await fake.tickAsync(20_000);
    expect(backend.statusCalls(undefined, resumedAt)).toBe(0);
    expect(errors).toHaveLength(1);
    expect(t0).toBeLessThan(failedAt);
  });

  it('falls back likewise when a page is not a Map, and doubles the fallback while the list stays broken', async () => {
    const { fake, backend, errors, trackMany } = setup();
    const dones = trackMany(8, 200_000);
    backend.listGarbage = [['task-0', { state: 'completed', raw: 'completed' }]];
    await fake.tickAsync(1_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect(String(errors[0])).toContain('listStatuses of the "job" backend yielded an array, not a Map');
    const firstFailure = backend.listCalls[0]!.at;
    await fake.tickAsync(61_000);
    expect(errors).toHaveLength(2);
    const secondFailure = backend.listCalls[1]!.at;
    // The fallback counts from the failure; each page takes the list's 10 ms.
    expect(secondFailure - firstFailure).toBe(60_000 + 10);
    await fake.tickAsync(121_000);
    expect(backend.listCalls[2]!.at - secondFailure).toBe(120_000 + 10);
    // Nothing was settled on the garbage's word: every task ends on its own status read.
    await fake.tickAsync(20_000);
    expect((await Promise.all(dones)).map((result) => result.outcome)).toEqual(Array(8).fill('completed'));
  });

  it('never settles a task on the list word alone: the list says completed, the status endpoint says running', async () => {
    const { fake, backend, manager, ref, statusEvents, trackMany } = setup();
    backend.listMode = 'all';
    trackMany(10, 600_000);
    backend.add('liar', 30_000);
    let settled = false;
    void manager.track(ref('liar')).done.then(() => (settled = true));
    backend.listSays.set('liar', 'completed');
    await fake.tickAsync(20_000);
    expect(settled).toBe(false);
    expect(manager.active()).toContainEqual(ref('liar'));
    // Each sweep's hint was checked with a status read, and none of them made a status event.
    expect(backend.statusCalls('liar', fake.now - 10_000)).toBeGreaterThanOrEqual(6);
    expect(statusEvents.filter((event) => event.ref.id === 'liar').map((event) => event.status.raw)).toEqual(['running']);
    backend.listSays.delete('liar');
    await fake.tickAsync(12_000);
    expect(settled).toBe(true);
  });

  it('takes a live task’s new status word from the list: one status event, no status read', async () => {
    const { fake, backend, ref, statusEvents, trackMany } = setup();
    trackMany(10, 600_000);
    await fake.tickAsync(5_000);
    backend.tasks.get('task-4')!.raw = 'saving';
    const since = fake.now;
    await fake.tickAsync(5_000);
    expect(statusEvents.filter((event) => event.ref.id === 'task-4').map((event) => [event.previous?.raw, event.status.raw])).toEqual([
      [undefined, 'running'],
      ['running', 'saving'],
    ]);
    expect(backend.statusCalls(ref('task-4').id, since)).toBe(0);
  });

  it('reads a task that a complete list leaves out at once, and tracks it on while it runs', async () => {
    const { fake, backend, manager, ref, trackMany } = setup();
    trackMany(10, 600_000);
    await fake.tickAsync(5_000);
    backend.unlisted.add('task-3');
    const since = fake.now;
    await fake.tickAsync(16_000);
    // One read per sweep (every 1.6 s) for the missing task, none for the others.
    expect(backend.statusCalls('task-3', since)).toBe(10);
    expect(backend.statusCalls(undefined, since)).toBe(10);
    expect(manager.active()).toContainEqual(ref('task-3'));
  });

  it('fires every deadline on time during sweeps, cancel first', async () => {
    const { fake, backend, t0, trackMany } = setup();
    const dones = trackMany(12, 600_000, { timeoutMs: 5_050 });
    await fake.tickAsync(10_000);
    const cancels = backend.calls.filter((call) => call.op === 'cancel');
    expect(cancels).toHaveLength(12);
    // Eight slots: the first eight leave at the deadline, the other four one request (10 ms) later.
    expect(cancels.map((call) => call.at - t0)).toEqual([...Array(8).fill(5_050), ...Array(4).fill(5_060)]);
    expect((await Promise.all(dones)).map((result) => result.outcome)).toEqual(Array(12).fill('timed_out'));
  });

  it('stops at its page bound when the list is mostly others’ tasks, and polls the tasks it did not reach', async () => {
    const { fake, backend, manager, trackMany } = setup();
    backend.foreign = 1_000;
    const dones = trackMany(10, 20_000);
    await fake.tickAsync(15_000);
    // ceil(10 / 100) + 2 pages at most: our tasks, listed after the others', are never reached.
    expect(Math.max(...backend.listCalls.map((call) => call.page))).toBe(3);
    expect(backend.statusCalls('task-0', fake.now - 5_000)).toBeGreaterThanOrEqual(3);
    await fake.tickAsync(10_000);
    expect((await Promise.all(dones)).map((result) => result.outcome)).toEqual(Array(10).fill('completed'));
    expect(manager.active()).toEqual([]);
  });

  it('keeps nothing alive once nothing is tracked, even with a page in flight, and arms one timer at most', async () => {
    const { fake, backend, manager, trackMany } = setup();
    backend.listLatencyMs = 60_000;
    const dones = trackMany(6, 3_000);
    let maxArmed = 0;
    for (let t = 0; t < 5_000; t += 100) {
      await fake.tickAsync(100);
      maxArmed = Math.max(maxArmed, manager.stats().timersArmed);
    }
    await Promise.all(dones);
    expect(backend.listCalls).toEqual([]);
    expect(maxArmed).toBe(1);
    expect(manager.stats()).toMatchObject({ tracked: 0, timersArmed: 0, requests: 0 });
    expect(fake.countTimers()).toBe(0);
  });

  it('with poll: { sweep: false }, polls each task as before and never lists', async () => {
    const { fake, backend, ref, trackMany } = setup({ sweep: false });
    trackMany(10, 60_000);
    await fake.tickAsync(10_000);
    expect(backend.listCalls).toEqual([]);
    const times = backend.calls.filter((call) => call.op === 'status' && call.id === ref('task-0').id).map((call) => call.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.slice(0, 6)).toEqual([110, 210, 410, 810, 1_610, 1_610]);
  });

  it('gives the tasks their own polls back at once when too few are left to sweep', async () => {
    const { fake, backend, ref, trackMany } = setup();
    trackMany(5, 600_000);
    backend.tasks.get('task-0')!.finishAt = fake.now + 5_000;
    backend.tasks.get('task-1')!.finishAt = fake.now + 5_000;
    await fake.tickAsync(8_000);
    expect(backend.statusCalls('task-0')).toBeGreaterThan(0);
    const since = fake.now;
    await fake.tickAsync(3_300);
    // Polled every 1.6 s again, not first after the two intervals the last sweep had spared them.
    for (const id of ['task-2', 'task-3', 'task-4']) expect(backend.statusCalls(ref(id).id, since)).toBe(2);
    expect(backend.listCalls.filter((call) => call.at > since)).toEqual([]);
  });

  it('leaves fewer than four tasks of a kind to their own polls', async () => {
    const { fake, backend, trackMany } = setup();
    trackMany(3, 60_000);
    await fake.tickAsync(10_000);
    expect(backend.listCalls).toEqual([]);
    expect(backend.statusCalls()).toBeGreaterThan(3 * 8);
  });
});

describe('the built-in backends list live tasks in the status endpoint’s words', () => {
  const signal = new AbortController().signal;
  const collect = async (pages: AsyncIterable<ReadonlyMap<string, NormalizedStatus>>): Promise<[string, string][][]> => {
    const all: [string, string][][] = [];
    for await (const page of pages) all.push([...page].map(([id, status]) => [id, `${status.state}/${status.raw}`]));
    return all;
  };

  it('agent: queued then running, page by page, queued as pending and running as in_progress', async () => {
    const queries: unknown[] = [];
    const answers: Record<string, unknown[]> = {
      'queued:1': [{ runId: 'q1', status: 'queued' }],
      'running:1': [{ runId: 'r1', status: 'running' }],
      'running:2': [{ runId: 'r2', status: 'completed' }],
    };
    const client = {
      listTasks: (query: { page: number; status: string }, options: { retries?: number }) => {
        queries.push({ ...query, retries: options.retries });
        const tasks = answers[`${query.status}:${query.page}`] ?? [];
        return Promise.resolve({ tasks, page: query.page, limit: 100, hasMore: query.status === 'running' && query.page === 1 });
      },
    } as unknown as AgentClient;
    expect(await collect(agentBackend(client).listStatuses!({ signal }))).toEqual([
      [['q1', 'pending/pending']],
      [['r1', 'running/in_progress']],
      [['r2', 'completed/completed']],
    ]);
    expect(queries).toEqual([
      { page: 1, limit: 100, status: 'queued', retries: 0 },
      { page: 1, limit: 100, status: 'running', retries: 0 },
      { page: 2, limit: 100, status: 'running', retries: 0 },
    ]);
  });

  it('cloud: the active tasks, by offset', async () => {
    const offsets: number[] = [];
    const client = {
      listTasks: (query: { offset: number; status: string }) => {
        offsets.push(query.offset);
        expect(query.status).toBe('active');
        const tasks = query.offset === 0 ? [{ id: 'a', status: 'processing' }, { id: 'b', status: 'pending' }] : [{ id: 'c', status: 'saving' }];
        return Promise.resolve({ tasks, offset: query.offset, limit: 100, hasMore: query.offset === 0 });
      },
    } as unknown as CloudClient;
    expect(await collect(cloudBackend(client).listStatuses!({ signal }))).toEqual([
      [
        ['a', 'running/processing'],
        ['b', 'pending/pending'],
      ],
      [['c', 'running/saving']],
    ]);
    expect(offsets).toEqual([0, 2]);
  });

  it('throws InvalidResponseError on an answer of another shape', async () => {
    for (const answer of [{ tasks: 'none', hasMore: false }, { tasks: [] }, { tasks: [{ runId: 7, status: 'running' }], hasMore: false }, 'html']) {
      const client = { listTasks: () => Promise.resolve(answer) } as unknown as AgentClient;
      await expect(collect(agentBackend(client).listStatuses!({ signal }))).rejects.toBeInstanceOf(InvalidResponseError);
    }
  });
});

describe('list sweeps against the simulator', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  /**
   * 100 agent runs and 100 cloud tasks of 2–6 simulated minutes with every outcome, the simulator on
   * the manager's fake clock. Time stands still while requests are in flight.
   */
  async function run(sweep: boolean) {
    const { fake, clock } = fakeClock();
    sim = await createSimulator({ seed: 5, now: () => fake.now, queuedMs: 3_000, savingMs: 2_000 });
    const manager = new TaskManager({
      agent: new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }),
      cloud: new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url }),
      clock,
      poll: { sweep },
      random: () => 0.5,
    });
    managers.push(manager);
    const statusEvents = new Map<string, string[]>();
    manager.on('status', ({ ref, status }) => statusEvents.set(ref.id, [...(statusEvents.get(ref.id) ?? []), status.raw]));
    const agentOutcomes = ['completed', 'failed', 'interrupted'] as const;
    const cloudOutcomes = ['completed', 'error', 'timeout'] as const;
    const expected = new Map<string, string>();
    const agentRuns = new Set<string>();
    const dones: Promise<TaskResult>[] = [];
    for (let i = 0; i < 100; i++) {
      const durationMs = 120_000 + ((i * 7_919) % 240_000);
      const agentOutcome = agentOutcomes[i % 3]!;
      const { runId } = sim.createAgentRun({ durationMs, outcome: agentOutcome });
      expected.set(runId, agentOutcome);
      agentRuns.add(runId);
      dones.push(manager.track({ kind: 'agent', id: runId }).done);
      const cloudOutcome = cloudOutcomes[i % 3]!;
      const { task } = sim.createCloudTask({ durationMs, outcome: cloudOutcome });
      expected.set(task.id, cloudOutcome === 'completed' ? 'completed' : 'failed');
      dones.push(manager.track({ kind: 'cloud', id: task.id }).done);
    }
    let settled = 0;
    for (const done of dones) void done.then(() => settled++);
    while (settled < dones.length) {
      while (manager.stats().requests > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      if (settled === dones.length) break;
      expect(fake.countTimers()).toBeGreaterThan(0);
      fake.next();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = await Promise.all(dones);
    const routes = Object.fromEntries(sim.ledger.byRoute);
    await sim.close();
    sim = undefined;
    return { results, expected, agentRuns, routes, statusEvents };
  }

  it('200 runs and tasks: every one settles with its outcome, with far fewer requests per task', async () => {
    const swept = await run(true);
    const polled = await run(false);
    for (const { results, expected } of [swept, polled]) {
      expect(results.filter((result) => result.outcome !== expected.get(result.id))).toEqual([]);
    }
    const total = (routes: Record<string, number>): number => Object.values(routes).reduce((a, b) => a + b, 0);
    const perTask = { swept: total(swept.routes) / 200, polled: total(polled.routes) / 200 };
    console.info(`[figures] sweeps e2e, 200 tasks of 2–6 min: requests per task ${perTask.swept.toFixed(1)} with sweeps, ${perTask.polled.toFixed(1)} without; routes ${JSON.stringify(swept.routes)}`);
    expect(polled.routes['agent.list'] ?? 0).toBe(0);
    expect(swept.routes['agent.list']).toBeGreaterThan(0);
    expect(swept.routes['cloud.list']).toBeGreaterThan(0);
    expect(perTask.swept).toBeLessThan(perTask.polled / 5);
    // The list's words are the status endpoint's: an agent run shows pending, in_progress and its end,
    // each once, whichever of the two said it; no task shows a word twice.
    for (const [id, words] of swept.statusEvents) {
      expect(new Set(words).size).toBe(words.length);
      if (swept.agentRuns.has(id)) expect(words).toEqual(['pending', 'in_progress', swept.expected.get(id)]);
    }
  }, 120_000);
});
