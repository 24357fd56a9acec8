/**
 * `manager.health()`: the lifecycle, the store and the last request outcomes, on a fake clock; then the
 * HTTP service example's probes over real HTTP, in a child process, while it shuts down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient, InternalServerError, MemoryStore, TaskManager, type ManagerHealth, type TaskRef } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { startNode, stopAll, until, type NodeChild } from '../tools/child.js';
import { fakeClock, ScriptedBackend } from './helpers/fake-backend.js';

function setup(options: { store?: MemoryStore } = {}) {
  const { clock, fake } = fakeClock();
  const backend = new ScriptedBackend(fake);
  const manager = new TaskManager({
    backends: { job: backend },
    clock,
    poll: { initialMs: 100, maxMs: 1_600, factor: 2, jitter: 0 },
    ...(options.store && { store: options.store }),
  });
  const ref = (id: string): TaskRef => ({ kind: 'job', id });
  return { fake, backend, manager, ref };
}

const serverError = (): InternalServerError => new InternalServerError(500, '500 GET /x', { body: {}, method: 'GET', path: '/x' });

describe('TaskManager.health()', () => {
  it('is not ready while the store opens, then ready and open, with no request yet', async () => {
    const { manager } = setup();
    expect(manager.health()).toEqual<ManagerHealth>({ ready: false, state: 'open', tracked: 0, store: 'opening', lastSuccessAt: null, lastErrorAt: null });
    await manager.ready();
    expect(manager.health()).toEqual<ManagerHealth>({ ready: true, state: 'open', tracked: 0, store: 'ready', lastSuccessAt: null, lastErrorAt: null });
    await manager.close();
  });

  it('is never ready when the store fails to open', async () => {
    class BrokenStore extends MemoryStore {
      override async open(): Promise<void> {
        throw new Error('disk full');
      }
    }
    const { manager } = setup({ store: new BrokenStore() });
    const errors: unknown[] = [];
    manager.on('error', ({ error }) => errors.push(error));
    await expect(manager.ready()).rejects.toThrow(/disk full/);
    expect(manager.health()).toMatchObject({ ready: false, state: 'open', store: 'failed' });
    expect(errors).toHaveLength(1);
    await manager.close();
  });

  it('counts the tasks tracked and stamps the last request that succeeded and the last that failed, on the manager clock', async () => {
    const { fake, backend, manager, ref } = setup();
    manager.on('error', () => {});
    backend.add('a', 60_000);
    backend.add('b', 60_000);
    manager.track(ref('a'));
    manager.track(ref('b'));
    expect(manager.health().tracked).toBe(2);
    await fake.tickAsync(50); // both first polls answered (10 ms each)
    const succeededAt = manager.health().lastSuccessAt;
    expect(succeededAt).toBeGreaterThanOrEqual(fake.now - 50);
    expect(manager.health().lastErrorAt).toBeNull();

    backend.failures.push({ op: 'status', error: serverError() });
    await fake.tickAsync(200);
    const { lastErrorAt, lastSuccessAt } = manager.health();
    expect(lastErrorAt).toBeGreaterThan(succeededAt!);
    expect(lastErrorAt).toBeLessThanOrEqual(fake.now);
    // The other task's poll went on succeeding.
    expect(lastSuccessAt).toBeGreaterThan(succeededAt!);
    await manager.close();
  });

  it('does not count a request the manager aborted itself (a hung poll cut short for a deadline cancel) as failed', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.opLatencyMs.status = 3_600_000;
    backend.add('a', 60_000);
    const handle = manager.track(ref('a'), { timeoutMs: 1_000 });
    await fake.tickAsync(2_000);
    expect((await handle.done).outcome).toBe('timed_out');
    expect(manager.health()).toMatchObject({ tracked: 0, lastErrorAt: null, lastSuccessAt: expect.any(Number) });
    await manager.close();
  });

  it('is not ready while shutting down nor once closed, and still answers', async () => {
    const { fake, backend, manager, ref } = setup();
    backend.opLatencyMs.cancel = 500;
    backend.add('a', 60_000);
    manager.track(ref('a'));
    await manager.ready();
    await fake.tickAsync(50);
    const shutdown = manager.shutdown({ graceMs: 5_000 });
    expect(manager.health()).toMatchObject({ ready: false, state: 'shuttingDown', tracked: 1, store: 'ready' });
    await fake.tickAsync(1_000);
    await shutdown;
    expect(manager.health()).toMatchObject({ ready: false, state: 'closed', tracked: 0 });
  });
});

// ---------------------------------------------------------------------------------------------------
const simulators: Simulator[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

/** `examples/http-service.ts --serve` in a child process against `sim`; resolves with its URL once it listens. */
async function startService(sim: Simulator): Promise<{ service: NodeChild; url: string }> {
  const service = startNode('examples/http-service.ts', {
    args: ['--serve'],
    env: { NO_COLOR: '1', TASKGUARD_BASE_URL: sim.url, BLACKBOX_API_KEY: sim.agentKey },
    dropEnv: /^(BLACKBOX_CLOUD_API_KEY|PORT)$/,
  });
  const [, url = ''] = await service.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/, 30_000);
  return { service, url };
}

async function probe(url: string): Promise<{ status: number; body: ManagerHealth }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as ManagerHealth };
}

describe('examples/http-service.ts probes', () => {
  it(
    'answers /healthz and /readyz from manager.health(): /readyz turns 503 while shutting down, /healthz stays 200',
    async () => {
      const sim = await createSimulator({ queuedMs: 20 });
      simulators.push(sim);
      const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
      const { service, url } = await startService(sim);

      const live = await probe(`${url}/healthz`);
      expect(live).toMatchObject({ status: 200, body: { state: 'open' } });
      await until(async () => (await probe(`${url}/readyz`)).status === 200, 'the service is ready');
      expect((await probe(`${url}/readyz`)).body).toMatchObject({ ready: true, state: 'open', store: 'ready', tracked: 0 });

      const waiting = fetch(`${url}/runs`, { method: 'POST', body: JSON.stringify({ prompt: 'Never ends [sim:duration=never]' }) });
      await until(async () => (await agent.listTasks({ status: 'running' })).tasks.length === 1, 'the run is running');
      const ready = await probe(`${url}/readyz`);
      expect(ready).toMatchObject({ status: 200, body: { tracked: 1, lastSuccessAt: expect.any(Number) } });

      // A slow API holds the shutdown open (its cancel takes a second): the probes answer meanwhile.
      sim.setFaults({ latencyMs: 1_000 });
      service.child.kill('SIGTERM');
      let draining: { status: number; body: ManagerHealth } | undefined;
      await until(async () => {
        draining = await probe(`${url}/readyz`);
        return draining.status === 503;
      }, '/readyz answers 503');
      expect(draining?.body).toMatchObject({ ready: false, state: 'shuttingDown', tracked: 1 });
      expect(await probe(`${url}/healthz`)).toMatchObject({ status: 200, body: { state: 'shuttingDown' } });

      expect((await waiting).status).toBe(503);
      expect((await service.exited).code, service.describe()).toBe(0);
      const { tasks } = await agent.listTasks({ limit: 10 });
      expect(tasks.map((run) => run.status)).toEqual(['cancelled']);
    },
    60_000,
  );
});
