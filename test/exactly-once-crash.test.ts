/**
 * The crash window of a create (SPEC §7): a worker SIGKILLed after its create left and before its answer
 * came back leaves an intent in its durable store; a survivor's `recover()` finds the task through it
 * and cancels it exactly once. Real processes, a real FileStore journal and a real redis-server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient, CloudClient, TaskManager, type RecoveryReport, type TaskStore } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { FileStore } from '../src/stores/file.js';
import { RedisStore } from '../src/stores/redis.js';
import { startNode, stopAll, until } from '../tools/child.js';
import { simulatorEnv } from './fixtures/protocol.js';
import { startRedisServer, type RedisServer } from './helpers/redis-server.js';

let sim: Simulator;
let redis: RedisServer;
let dir: string;
const LEASE_MS = 1_000;

beforeAll(async () => {
  redis = await startRedisServer();
});

afterAll(async () => {
  await redis?.stop();
});

beforeEach(async () => {
  sim = await createSimulator({ seed: 3, queuedMs: 20, defaultDurationMs: Number.POSITIVE_INFINITY });
  dir = mkdtempSync(join(tmpdir(), 'taskguard-intent-'));
});

afterEach(async () => {
  await stopAll();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

function survivor(store: TaskStore): TaskManager {
  const options = { baseUrl: sim.url, retryBackoff: { initialMs: 20 } };
  return new TaskManager({
    agent: new AgentClient({ apiKey: sim.agentKey, ...options }),
    cloud: new CloudClient({ apiKey: sim.cloudKey, ...options }),
    store,
    workerId: 'survivor',
    leaseMs: LEASE_MS,
    poll: { initialMs: 50, maxMs: 200 },
    reconcile: { settleMs: 100 },
  });
}

/** Starts the worker, lets its create reach the server with the answer lost, and kills it there. */
async function killInTheCreateWindow(kind: 'agent' | 'cloud', storeEnv: Record<string, string>): Promise<void> {
  const worker = startNode('test/fixtures/intent-worker.ts', {
    env: {
      ...simulatorEnv(sim),
      TG_WORKER_ID: 'victim',
      TG_LEASE_MS: String(LEASE_MS),
      TG_KIND: kind,
      TG_PROMPT: `Crash window ${kind}`,
      ...storeEnv,
    },
  });
  await worker.waitFor('READY');
  // Every answer is lost from now on: the create is applied, and neither its answer nor any list the
  // worker tries in order to reconcile comes back.
  sim.setFaults({ lostAnswerRate: 1 });
  await until(() => (sim.ledger.byRoute.get(kind === 'agent' ? 'agent.create' : 'cloud.create') ?? 0) === 1 && sim.ledger.lostAnswers >= 1, 'the create was applied and its answer lost');
  worker.signal('SIGKILL');
  await worker.waitForExit(5_000);
  sim.setFaults({ lostAnswerRate: 0 });
}

/** The IDs of the tasks the simulator made, from its own lists. */
async function createdIds(kind: 'agent' | 'cloud'): Promise<string[]> {
  if (kind === 'agent') return (await new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }).listTasks({ limit: 100 })).tasks.map((run) => run.runId);
  return (await new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url }).listTasks({ limit: 100 })).tasks.map((task) => task.id);
}

/** recover() until it reconciles the dead worker's intent (a Redis lease takes its time to expire). */
async function recoverUntilFound(manager: TaskManager): Promise<{ report: RecoveryReport; ms: number }> {
  const started = performance.now();
  for (;;) {
    const report = await manager.recover({ policy: 'cancel' });
    if (report.reconciled.length > 0) return { report, ms: performance.now() - started };
    if (performance.now() - started > 10_000) throw new Error('no recover() found the intent within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const stores = {
  FileStore: () => {
    const path = join(dir, 'journal.jsonl');
    return { env: { TG_STORE: 'file', TG_STORE_PATH: path }, open: (): TaskStore => new FileStore({ path }) };
  },
  RedisStore: () => {
    const prefix = `intent-${Math.random().toString(36).slice(2)}`;
    return { env: { TG_STORE: 'redis', TG_REDIS_URL: redis.url, TG_PREFIX: prefix }, open: (): TaskStore => new RedisStore({ url: redis.url, prefix }) };
  },
};

describe.each(Object.keys(stores) as (keyof typeof stores)[])('a worker on a %s killed while its create was out', (storeName) => {
  for (const kind of ['agent', 'cloud'] as const) {
    it(`leaves an intent from which a survivor's recover() finds the ${kind} task and cancels it exactly once`, async () => {
      const store = stores[storeName]();
      await killInTheCreateWindow(kind, store.env);
      const created = await createdIds(kind);
      expect(created, 'the server made the task').toHaveLength(1);
      const made = created[0]!;

      const manager = survivor(store.open());
      try {
        const { report, ms } = await recoverUntilFound(manager);
        expect(report.reconciled).toEqual([{ kind, outcome: 'adopted', refs: [{ kind, id: made }] }]);
        expect(report.claimed).toContainEqual({ kind, id: made });
        expect(report.cancel?.counts).toMatchObject({ cancelled: 1, failed: 0 });
        await until(() => manager.active().length === 0, 'the adopted task settled');
        // A cloud task found while still `pending` refuses its stop (400); the manager holds the stop and
        // sends it again once the task runs. Only one may stop it, and at most one may come too early.
        const sent = (kind === 'agent' ? sim.ledger.cancels : sim.ledger.stops).get(made) ?? 0;
        const cancels = kind === 'agent' ? sent : (sim.ledger.acceptedStops.get(made) ?? 0);
        expect(cancels).toBe(1);
        expect(sent - cancels, 'cancels refused as too early').toBeLessThanOrEqual(kind === 'agent' ? 0 : 1);
        expect(await createdIds(kind)).toEqual([made]);
        console.info(`[figures] exactly-once crash window, ${storeName}, ${kind}: intent found and its task cancelled ${ms.toFixed(0)} ms after the first recover() call; cancels that stopped it: ${cancels}, refused as too early: ${sent - cancels}`);
      } finally {
        await manager.close();
      }
    }, 30_000);
  }
});
