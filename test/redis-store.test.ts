/**
 * RedisStore against a real redis-server (started by test/helpers/redis-server.ts on a free loopback
 * port; `scripts/ensure-redis.sh` installs it), with real worker processes and the simulator.
 *
 * Figures (tasks recovered, time to recover, double cancels) are printed as `[redis figures]` lines.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient, CloudClient, TaskManager, type FleetMessage, type StoredTask, type TaskResult } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { RedisStore } from '../src/stores/redis.js';
import { startNode, stopAll, until, type NodeChild } from '../tools/child.js';
import { simulatorEnv, type PlainResult } from './fixtures/protocol.js';
import { freePort, startRedisServer, type RedisServer } from './helpers/redis-server.js';

/** A poll delay no test outlives: after its first poll a task has no request in flight. */
const IDLE_POLL_MS = 600_000;
const IDLE_POLL = { initialMs: IDLE_POLL_MS, maxMs: IDLE_POLL_MS, factor: 1, jitter: 0 } as const;
/** Margin over a lease for process scheduling, Redis round trips and the cancels on a busy machine. */
const MARGIN_MS = 4_000;
/**
 * The lease of the workers that stay alive: long enough that a loaded machine never stalls one past it
 * (a false death would let another worker claim its tasks). The workers that die use a short one.
 */
const LIVE_LEASE_MS = 5_000;

let redis: RedisServer;
let admin: Redis;
let sim: Simulator;
let prefixes = 0;
const opened: RedisStore[] = [];
const managers: TaskManager[] = [];
const figures: Record<string, unknown>[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new Redis(redis.url, { lazyConnect: true });
  await admin.connect();
});

afterAll(async () => {
  for (const figure of figures) console.info('[redis figures]', JSON.stringify(figure));
  admin?.disconnect();
  await redis?.dispose();
});

beforeEach(async () => {
  // Tasks never end on their own: every cancel the ledger shows was needed, and a missed one stays visible.
  sim = await createSimulator({ queuedMs: 20, defaultDurationMs: Number.POSITIVE_INFINITY });
});

afterEach(async () => {
  await stopAll();
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
  await Promise.all(opened.splice(0).map((store) => store.close()));
  await sim.close();
});

/** A fresh key prefix per test: tests never see each other's keys. */
function newPrefix(): string {
  return `tgtest-${process.pid}-${++prefixes}:`;
}

async function openStore(workerId: string, prefix: string, url = redis.url): Promise<RedisStore> {
  const store = new RedisStore({ url, prefix });
  opened.push(store);
  await store.open(workerId);
  return store;
}

function storedTask(id: string, owner: string, extra: Partial<StoredTask> = {}): StoredTask {
  return { kind: 'agent', id, owner, deadline: null, status: null, trackedAt: 1_700_000_000_000, ...extra };
}

function sortById(tasks: readonly StoredTask[]): StoredTask[] {
  return [...tasks].sort((a, b) => `${a.kind}:${a.id}`.localeCompare(`${b.kind}:${b.id}`));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function clientsOf(simulator: Simulator): { agent: AgentClient; cloud: CloudClient } {
  return {
    agent: new AgentClient({ apiKey: simulator.agentKey, baseUrl: simulator.url }),
    cloud: new CloudClient({ apiKey: simulator.cloudKey, baseUrl: simulator.url }),
  };
}

function agentRuns(count: number, durationMs = Number.POSITIVE_INFINITY): string[] {
  return Array.from({ length: count }, () => sim.createAgentRun({ durationMs }).runId);
}

function cloudTasks(count: number, durationMs = Number.POSITIVE_INFINITY): string[] {
  return Array.from({ length: count }, () => sim.createCloudTask({ durationMs }).task.id);
}

/** Stop works only on a `processing` task: wait until the simulator says every one is. */
function untilProcessing(ids: readonly string[]): Promise<void> {
  return until(() => ids.every((id) => sim.getCloudTask(id)?.status === 'processing'), 'the cloud tasks are processing');
}

/** Cancels (agent) plus stops (cloud) the simulator received for each ID. */
function cancelCounts(agentIds: readonly string[], cloudIds: readonly string[]): number[] {
  return [...agentIds.map((id) => sim.ledger.cancels.get(id) ?? 0), ...cloudIds.map((id) => sim.ledger.stops.get(id) ?? 0)];
}

interface WorkerConfig {
  readonly prefix: string;
  readonly workerId: string;
  readonly leaseMs: number;
  readonly agentIds?: readonly string[];
  readonly cloudIds?: readonly string[];
  readonly recoverMs?: number;
  readonly pollMs?: number;
}

function startWorker(config: WorkerConfig): NodeChild {
  return startNode('test/fixtures/redis-worker.ts', {
    env: {
      ...simulatorEnv(sim),
      TG_REDIS_URL: redis.url,
      TG_PREFIX: config.prefix,
      TG_WORKER_ID: config.workerId,
      TG_LEASE_MS: String(config.leaseMs),
      TG_AGENT_IDS: (config.agentIds ?? []).join(','),
      TG_CLOUD_IDS: (config.cloudIds ?? []).join(','),
      TG_RECOVER_MS: String(config.recoverMs ?? 0),
      TG_POLL_MS: String(config.pollMs ?? IDLE_POLL_MS),
    },
  });
}

interface Recovered {
  readonly claimed: string[];
  readonly skipped: number;
  readonly counts: { cancelled: number; alreadyDone: number; failed: number } | null;
  /** When the recover() call that claimed began and ended (epoch ms). */
  readonly startedAt: number;
  readonly at: number;
}

function recoveredBy(worker: NodeChild): Recovered[] {
  return worker.tagged('RECOVERED').map((line) => JSON.parse(line) as Recovered);
}

function settledBy(worker: NodeChild): PlainResult[] {
  return worker.tagged('SETTLED').map((line) => JSON.parse(line) as PlainResult);
}

describe('RedisStore: options', () => {
  it('takes exactly one of url and client, and names the option that is wrong', () => {
    const make = (options: unknown) => () => new RedisStore(options as never);
    expect(make(undefined)).toThrow(TypeError);
    expect(make({})).toThrow(/option `url`.*option `client`/);
    expect(make({ url: 'redis://127.0.0.1:1', client: admin })).toThrow(/not both/);
    expect(make({ url: 'http://127.0.0.1:6379' })).toThrow(/option `url` must start with redis:\/\//);
    expect(make({ url: 42 })).toThrow(/option `url`/);
    expect(make({ url: 'redis://:hunter2@[nope' })).toThrow(TypeError);
    expect(make({ url: 'redis://:hunter2@[nope' })).not.toThrow(/hunter2/);
    expect(make({ client: {} })).toThrow(/option `client` must be an ioredis client/);
    expect(make({ url: 'redis://127.0.0.1:1', prefix: 'with space' })).toThrow(/option `prefix`/);
    expect(make({ url: 'redis://127.0.0.1:1', prefix: 7 })).toThrow(/option `prefix`/);
    expect(new RedisStore({ url: 'rediss://user:pw@example.com:6380/2' }).prefix).toBe('taskguard:');
    expect(new RedisStore({ client: admin, prefix: '{tg}:' }).prefix).toBe('{tg}:');
  });

  it('rejects calls before open() and after close()', async () => {
    const store = new RedisStore({ url: redis.url, prefix: newPrefix() });
    await expect(store.add(storedTask('a', 'w'))).rejects.toThrow(/not open yet/);
    await store.open('w');
    await expect(store.open('w')).rejects.toThrow(/already open/);
    await store.close();
    await store.close();
    await expect(store.listByOwner('w')).rejects.toThrow(/closed/);
  });

  it('loads ioredis only when a store made from a URL opens', async () => {
    const child = startNode('test/fixtures/redis-lazy.ts', { env: { TG_REDIS_URL: redis.url } });
    const loaded = JSON.parse(await child.waitFor('LOADED')) as { import: number; construct: number; open: number };
    expect(loaded).toMatchObject({ import: 0, construct: 0 });
    expect(loaded.open).toBeGreaterThan(0);
    expect((await child.waitForExit(10_000)).code).toBe(0);
  });
});

describe('RedisStore: records', () => {
  it('adds, updates, removes and lists by owner, with the documented key layout', async () => {
    const prefix = newPrefix();
    const store = await openStore('w1', prefix);
    const a = storedTask('run_a', 'w1', { deadline: 1_700_000_060_000 });
    const b = storedTask('task_b', 'w1', { kind: 'cloud', status: 'processing' });
    const c = storedTask('run_c', 'w2');
    await Promise.all([store.add(a), store.add(b), store.add(c)]);
    expect(sortById(await store.listByOwner('w1'))).toEqual([a, b]);
    expect(await store.listByOwner('w2')).toEqual([c]);
    expect(await store.listByOwner('nobody')).toEqual([]);

    expect(await admin.hgetall(`${prefix}task:agent:run_a`)).toEqual({ kind: 'agent', id: 'run_a', owner: 'w1', trackedAt: '1700000000000', deadline: '1700000060000' });
    expect((await admin.smembers(`${prefix}tasks:w1`)).sort()).toEqual(['agent:run_a', 'cloud:task_b']);
    expect((await admin.smembers(`${prefix}owners`)).sort()).toEqual(['w1', 'w2']);

    await store.update(a, { status: 'in_progress', deadline: null });
    await store.update(b, { status: null, deadline: 5 });
    await store.update({ kind: 'agent', id: 'missing' }, { status: 'x' });
    expect(await admin.exists(`${prefix}task:agent:missing`)).toBe(0);
    expect(sortById(await store.listByOwner('w1'))).toEqual([
      { ...a, status: 'in_progress', deadline: null },
      { ...b, status: null, deadline: 5 },
    ]);

    // A new owner moves the record between the owner sets.
    await store.update(c, { owner: 'w1' });
    expect(await store.listByOwner('w2')).toEqual([]);
    expect((await store.listByOwner('w1')).map((t) => t.id).sort()).toEqual(['run_a', 'run_c', 'task_b']);

    // add replaces a record of the same ref, owner included.
    await store.add({ ...a, owner: 'w3', status: 'queued' });
    expect(await store.listByOwner('w3')).toEqual([{ ...a, owner: 'w3', status: 'queued' }]);
    expect((await store.listByOwner('w1')).map((t) => t.id).sort()).toEqual(['run_c', 'task_b']);

    await store.remove(b);
    await store.remove(c);
    await store.remove({ kind: 'agent', id: 'never-there' });
    expect(await store.listByOwner('w1')).toEqual([]);
    expect(await admin.exists(`${prefix}task:cloud:task_b`, `${prefix}tasks:w1`)).toBe(0);
  });

  it('writes of one task in order (the manager chains them): the last one wins', async () => {
    const store = await openStore('w', newPrefix());
    const ref = { kind: 'agent', id: 'ordered' };
    const writes: Promise<void>[] = [store.add(storedTask('ordered', 'w'))];
    for (let i = 0; i < 50; i++) writes.push(store.update(ref, { status: `s${i}` }));
    await Promise.all(writes);
    expect((await store.listByOwner('w'))[0]?.status).toBe('s49');
  });
});

describe('RedisStore: leases and claims', () => {
  it('lists the tasks of an owner whose lease expired, never the caller’s own', async () => {
    const prefix = newPrefix();
    const dying = await openStore('dying', prefix);
    const alive = await openStore('alive', prefix);
    await dying.renewLease('dying', 300);
    await alive.renewLease('alive', 60_000);
    await Promise.all([dying.add(storedTask('d1', 'dying')), dying.add(storedTask('d2', 'dying')), alive.add(storedTask('a1', 'alive'))]);
    expect(await alive.listExpired('alive')).toEqual([]);
    await sleep(400);
    expect(sortById(await alive.listExpired('alive'))).toEqual([storedTask('d1', 'dying'), storedTask('d2', 'dying')]);
    expect(await dying.listExpired('dying')).toEqual([]);
    // A clean exit: the lease ends at once.
    await alive.releaseLease('alive');
    expect((await dying.listExpired('dying')).map((t) => t.id)).toEqual(['a1']);
    // Owners left with neither task nor lease are forgotten.
    await alive.remove({ kind: 'agent', id: 'a1' });
    await dying.listExpired('x');
    expect((await admin.smembers(`${prefix}owners`)).sort()).toEqual(['dying']);
  });

  it('claim is atomic: of 20 workers claiming the same tasks at once, exactly one wins each', async () => {
    const prefix = newPrefix();
    const claimers = await Promise.all(Array.from({ length: 20 }, (_, i) => openStore(`claimer-${i}`, prefix)));
    const ids = Array.from({ length: 10 }, (_, i) => `contested-${i}`);
    await Promise.all(ids.map((id) => claimers[0]!.add(storedTask(id, 'dead'))));
    const winsPerTask: number[] = [];
    for (const id of ids) {
      const ref = { kind: 'agent', id };
      const wins = await Promise.all(claimers.map((store, i) => store.claim(ref, 'dead', `claimer-${i}`)));
      winsPerTask.push(wins.filter(Boolean).length);
      const winner = wins.indexOf(true);
      expect(await admin.hget(`${prefix}task:agent:${id}`, 'owner')).toBe(`claimer-${winner}`);
      expect(await admin.sismember(`${prefix}tasks:claimer-${winner}`, `agent:${id}`)).toBe(1);
    }
    expect(winsPerTask).toEqual(ids.map(() => 1));
    expect(await admin.exists(`${prefix}tasks:dead`)).toBe(0);
    expect(await admin.sismember(`${prefix}owners`, 'dead')).toBe(0);
    figures.push({ scenario: 'concurrent claims', claimers: 20, tasks: ids.length, winsPerTask: [...new Set(winsPerTask)] });
  });

  it('claim refuses a task whose owner changed or whose owner’s lease is back', async () => {
    const prefix = newPrefix();
    const store = await openStore('survivor', prefix);
    await store.add(storedTask('t1', 'ghost'));
    await store.renewLease('ghost', 60_000);
    expect(await store.claim({ kind: 'agent', id: 't1' }, 'ghost', 'survivor')).toBe(false);
    await store.releaseLease('ghost');
    expect(await store.claim({ kind: 'agent', id: 't1' }, 'other', 'survivor')).toBe(false);
    expect(await store.claim({ kind: 'agent', id: 'nothing' }, 'ghost', 'survivor')).toBe(false);
    expect(await store.claim({ kind: 'agent', id: 't1' }, 'ghost', 'survivor')).toBe(true);
    expect(await store.claim({ kind: 'agent', id: 't1' }, 'ghost', 'survivor')).toBe(false);
    expect((await store.listByOwner('survivor')).map((t) => t.id)).toEqual(['t1']);
  });

  it('a renewal that finds the lease gone renews it and reports the lapse', async () => {
    const store = await openStore('w', newPrefix());
    await store.renewLease('w', 500);
    await store.renewLease('w', 500);
    await sleep(700);
    await expect(store.renewLease('w', 500)).rejects.toThrow(/lease of worker "w" had expired/);
    await expect(store.renewLease('w', 60_000)).resolves.toBeUndefined();
  });

  it('a worker id whose predecessor died: open() waits out its lease and hands its tasks to recovery', async () => {
    const prefix = newPrefix();
    const predecessor = await openStore('pod-1', prefix);
    await predecessor.renewLease('pod-1', 400);
    await predecessor.add(storedTask('left-1', 'pod-1'));
    await predecessor.add(storedTask('left-2', 'pod-1', { deadline: 42 }));
    await predecessor.close(); // a crash: no releaseLease

    const left = await admin.pttl(`${prefix}lease:pod-1`);
    expect(left).toBeGreaterThan(0);
    const started = performance.now();
    const successor = await openStore('pod-1', prefix);
    expect(performance.now() - started).toBeGreaterThanOrEqual(left - 20);
    expect(await successor.listByOwner('pod-1')).toEqual([]);
    const expired = sortById(await successor.listExpired('pod-1'));
    expect(expired.map((t) => [t.id, t.deadline])).toEqual([['left-1', null], ['left-2', 42]]);
    const inherited = expired[0]!.owner;
    expect(inherited).toMatch(/^pod-1~[0-9a-f]{8}$/);
    expect(await successor.claim({ kind: 'agent', id: 'left-1' }, inherited, 'pod-1')).toBe(true);
  });

  it('open() refuses a worker id whose lease a live worker keeps renewing', async () => {
    const prefix = newPrefix();
    const live = await openStore('twin', prefix);
    await live.renewLease('twin', 600);
    const heartbeat = setInterval(() => void live.renewLease('twin', 600).catch(() => {}), 100);
    try {
      await expect(openStore('twin', prefix)).rejects.toThrow(/another live worker holds the lease of workerId "twin"/);
    } finally {
      clearInterval(heartbeat);
    }
  });
});

describe('RedisStore: fleet messages and connections', () => {
  it('publishes fleet messages to every subscriber; unsubscribing stops them', async () => {
    const prefix = newPrefix();
    const a = await openStore('a', prefix);
    const b = await openStore('b', prefix);
    const received: FleetMessage[] = [];
    const stop = await a.subscribe((message) => received.push(message));
    expect(await admin.pubsub('NUMSUB', `${prefix}fleet`)).toEqual([`${prefix}fleet`, 1]);
    await admin.publish(`${prefix}fleet`, 'not json');
    await admin.publish(`${prefix}fleet`, JSON.stringify({ type: 'other', from: 'x' }));
    await b.publish({ type: 'cancelAll', from: 'b' });
    await until(() => received.length > 0, 'the message arrived', 5_000);
    await sleep(50);
    expect(received).toEqual([{ type: 'cancelAll', from: 'b' }]);
    await stop();
    expect(await admin.pubsub('NUMSUB', `${prefix}fleet`)).toEqual([`${prefix}fleet`, 0]);
  });

  it('with a client of yours: commands on it, fleet messages on a duplicate, and close() never quits it', async () => {
    const prefix = newPrefix();
    const client = new Redis(redis.url, { maxRetriesPerRequest: null, lazyConnect: true });
    try {
      const store = new RedisStore({ client, prefix });
      await store.open('mine');
      await store.add(storedTask('x', 'mine'));
      const received: FleetMessage[] = [];
      await store.subscribe((message) => received.push(message));
      expect(await admin.pubsub('NUMSUB', `${prefix}fleet`)).toEqual([`${prefix}fleet`, 1]);
      await store.publish({ type: 'cancelAll', from: 'mine' });
      await until(() => received.length === 1, 'the message arrived', 5_000);
      await store.close();
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
      expect(await admin.pubsub('NUMSUB', `${prefix}fleet`)).toEqual([`${prefix}fleet`, 0]);
      expect(await client.hget(`${prefix}task:agent:x`, 'owner')).toBe('mine');
    } finally {
      client.disconnect();
    }
  });

  it('Redis unreachable at start: new TaskManager does not throw, ready() rejects with the URL and no password', async () => {
    const port = await freePort();
    const url = `redis://:s3cret-pw@127.0.0.1:${port}`;
    const { agent } = clientsOf(sim);
    const manager = new TaskManager({ agent, store: new RedisStore({ url }) });
    managers.push(manager);
    const errors: unknown[] = [];
    manager.on('error', ({ error }) => errors.push(error));
    const started = performance.now();
    const rejection = await manager.ready().then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(rejection).toBeInstanceOf(Error);
    expect(rejection!.message).toContain(`redis://:***@127.0.0.1:${port}`);
    expect(rejection!.message).toMatch(/ECONNREFUSED/);
    expect(rejection!.message).not.toContain('s3cret-pw');
    expect(performance.now() - started).toBeLessThan(5_000);
    await manager.close();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((error) => !String((error as Error).message).includes('s3cret-pw'))).toBe(true);
  });

  it('Redis unreachable at start: the process ends on its own after close(), nothing left open', async () => {
    const port = await freePort();
    const child = startNode('test/fixtures/redis-unreachable.ts', { env: { TG_REDIS_URL: `redis://:pw-in-url@127.0.0.1:${port}` } });
    const exit = await child.waitForExit(15_000);
    expect(exit.code).toBe(0);
    expect(child.tagged('CONSTRUCTED')).toHaveLength(1);
    expect(child.tagged('OPENED')).toHaveLength(0);
    const rejected = JSON.parse(child.tagged('REJECTED')[0]!) as { message: string; ms: number };
    expect(rejected.message).toContain(`RedisStore cannot connect to redis://:***@127.0.0.1:${port}`);
    expect(child.lines.join('\n')).not.toContain('pw-in-url');
    const closed = JSON.parse(child.tagged('CLOSED')[0]!) as { ms: number; handles: string[] };
    // Only the process's own stdio may be left (a pipe or a TTY wrap), no socket or timer of ours.
    expect(closed.handles.filter((handle) => !['PipeWrap', 'TTYWrap'].includes(handle))).toEqual([]);
    expect(child.tagged('EXIT')).toEqual(['0']);
  });
  it('liveness: without close(), the process ends once nothing is tracked, every write in Redis first', async () => {
    const prefix = newPrefix();
    const child = startNode('test/fixtures/redis-liveness.ts', { env: { TG_REDIS_URL: redis.url, TG_PREFIX: prefix, TG_WORKER_ID: 'liveness', TG_TASKS: '5', TG_TASK_MS: '300' } });
    const exit = await child.waitForExit(15_000);
    expect(exit.code).toBe(0);
    expect(JSON.parse(child.tagged('DONE')[0]!)).toEqual(['completed', 'completed', 'completed', 'completed', 'completed']);
    // The removes reached Redis before the process ended; only the lease is left, to expire.
    expect(await admin.keys(`${prefix}task:*`)).toEqual([]);
    expect(await admin.exists(`${prefix}tasks:liveness`)).toBe(0);
  });
});

describe('RedisStore: a fleet of worker processes', () => {
  it('SIGKILL of a worker with 200 tasks: once its lease runs out, not before, a survivor recovers all 200, each cancelled exactly once', async () => {
    const prefix = newPrefix();
    const leaseMs = 1_000;
    const agentIds = agentRuns(100);
    const cloudIds = cloudTasks(100);
    const ownIds = agentRuns(5);
    await untilProcessing(cloudIds);
    const victim = startWorker({ prefix, workerId: 'victim', leaseMs, agentIds, cloudIds });
    const survivor = startWorker({ prefix, workerId: 'survivor', leaseMs: LIVE_LEASE_MS, agentIds: ownIds, recoverMs: 100 });
    await Promise.all([victim.waitFor('READY', 30_000), survivor.waitFor('READY', 30_000)]);
    expect(sim.ledger.cancels.size + sim.ledger.stops.size).toBe(0);

    const killedEpoch = Date.now();
    victim.signal('SIGKILL');
    await victim.exited;
    // Nothing renews the lease now, and no claim may come before it runs out. `asked` precedes the moment
    // Redis measured what is left, so `leaseEnd` is at or before the real expiry (PTTL -2: gone, at the kill).
    const asked = Date.now();
    const leaseLeftMs = await admin.pttl(`${prefix}lease:victim`);
    const leaseEnd = leaseLeftMs >= 0 ? asked + leaseLeftMs : killedEpoch;
    await until(() => cancelCounts(agentIds, cloudIds).every((count) => count >= 1), 'every task of the dead worker is cancelled', leaseMs + MARGIN_MS + 10_000);
    const recoveredAt = Date.now();
    const recoveredAfterLeaseMs = recoveredAt - leaseEnd;
    await until(() => settledBy(survivor).length === 200, 'the survivor saw every recovered task settle', 15_000);
    await sleep(300); // room for a stray second cancel to show up in the ledger

    const counts = cancelCounts(agentIds, cloudIds);
    const doubleCancels = counts.filter((count) => count > 1).length;
    const claimed = recoveredBy(survivor).flatMap((r) => r.claimed);
    const first = recoveredBy(survivor).find((r) => r.claimed.length > 0)!;
    const firstClaimAt = Math.min(...survivor.taggedJson<number>('CLAIMED'));
    figures.push({
      scenario: 'SIGKILL, one survivor',
      leaseMs,
      leaseLeftAtKillMs: leaseEnd - killedEpoch,
      tasksRecovered: new Set(claimed).size,
      recoverMs: recoveredAt - killedEpoch,
      recoverStartedMsAfterKill: first.startedAt - killedEpoch,
      firstClaimMsAfterLease: firstClaimAt - leaseEnd,
      recoverCallMs: first.at - first.startedAt,
      doubleCancels,
    });

    expect(counts.every((count) => count === 1)).toBe(true);
    expect(doubleCancels).toBe(0);
    expect(new Set(claimed).size).toBe(200);
    expect(claimed).toHaveLength(200);
    expect(firstClaimAt).toBeGreaterThanOrEqual(leaseEnd);
    expect(recoveredAfterLeaseMs).toBeLessThan(MARGIN_MS);
    expect(settledBy(survivor).every((result) => result.outcome === 'cancelled')).toBe(true);
    expect(ownIds.map((id) => sim.ledger.cancels.get(id) ?? 0)).toEqual(ownIds.map(() => 0));
    expect(survivor.tagged('ERROR')).toEqual([]);

    const probe = await openStore('probe', prefix);
    await until(async () => (await probe.listByOwner('survivor')).length === ownIds.length, 'the survivor’s registry holds only its own tasks');
    expect(await probe.listByOwner('victim')).toEqual([]);
    expect(await probe.listExpired('probe')).toEqual([]);
  }, 90_000);

  it('two survivors recovering at once: all 200 claimed once between them, no double cancel', async () => {
    const prefix = newPrefix();
    const leaseMs = 1_000;
    const agentIds = agentRuns(100);
    const cloudIds = cloudTasks(100);
    await untilProcessing(cloudIds);
    const victim = startWorker({ prefix, workerId: 'victim', leaseMs, agentIds, cloudIds });
    const survivors = [
      startWorker({ prefix, workerId: 'survivor-1', leaseMs: LIVE_LEASE_MS, recoverMs: 50 }),
      startWorker({ prefix, workerId: 'survivor-2', leaseMs: LIVE_LEASE_MS, recoverMs: 50 }),
    ];
    await Promise.all([victim, ...survivors].map((worker) => worker.waitFor('READY', 30_000)));

    const killedAt = performance.now();
    victim.signal('SIGKILL');
    await victim.exited;
    await until(() => cancelCounts(agentIds, cloudIds).every((count) => count >= 1), 'every task of the dead worker is cancelled', leaseMs + MARGIN_MS + 10_000);
    const recoverMs = performance.now() - killedAt;
    await until(() => survivors.reduce((sum, worker) => sum + settledBy(worker).length, 0) === 200, 'the survivors saw every recovered task settle', 15_000);
    await sleep(300);

    const counts = cancelCounts(agentIds, cloudIds);
    const doubleCancels = counts.filter((count) => count > 1).length;
    const claimedBy = survivors.map((worker) => recoveredBy(worker).flatMap((r) => r.claimed));
    const all = claimedBy.flat();
    const skippedBy = survivors.map((worker) => recoveredBy(worker).reduce((sum, r) => sum + r.skipped, 0));
    figures.push({
      scenario: 'SIGKILL, two survivors at once',
      leaseMs,
      tasksRecovered: new Set(all).size,
      claimedPerSurvivor: claimedBy.map((c) => c.length),
      lostRacesPerSurvivor: skippedBy,
      recoverMs: Math.round(recoverMs),
      doubleCancels,
    });

    expect(doubleCancels).toBe(0);
    expect(counts.every((count) => count === 1)).toBe(true);
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    expect(recoverMs).toBeLessThan(leaseMs + MARGIN_MS);
    for (const worker of survivors) expect(worker.tagged('ERROR')).toEqual([]);
  }, 90_000);

  it('cancelAll({ scope: "fleet" }): the live worker cancels its own tasks, the orphans are cancelled here', async () => {
    const prefix = newPrefix();
    const leaseMs = 1_000;
    const own = agentRuns(5);
    const liveAgents = agentRuns(5);
    const liveClouds = cloudTasks(3);
    const deadAgents = agentRuns(4);
    const deadClouds = cloudTasks(3);
    await untilProcessing([...liveClouds, ...deadClouds]);
    const live = startWorker({ prefix, workerId: 'fleet-live', leaseMs: LIVE_LEASE_MS, agentIds: liveAgents, cloudIds: liveClouds });
    const dead = startWorker({ prefix, workerId: 'fleet-dead', leaseMs, agentIds: deadAgents, cloudIds: deadClouds });
    await Promise.all([live.waitFor('READY', 30_000), dead.waitFor('READY', 30_000)]);

    const store = new RedisStore({ url: redis.url, prefix });
    const manager = new TaskManager({ ...clientsOf(sim), store, workerId: 'fleet-here', leaseMs: LIVE_LEASE_MS, poll: IDLE_POLL });
    managers.push(manager);
    await manager.ready();
    for (const id of own) manager.track({ kind: 'agent', id });
    await until(async () => (await store.listByOwner('fleet-here')).length === own.length, 'this worker’s tasks are recorded');

    dead.signal('SIGKILL');
    await dead.exited;
    await until(async () => (await store.listExpired('fleet-here')).length === 7, 'the dead worker’s lease expired', leaseMs + MARGIN_MS);
    // This worker and the live one listen on the channel (the dead one's connection is gone).
    await until(async () => ((await admin.pubsub('NUMSUB', `${prefix}fleet`)) as [string, number])[1] === 2, 'two subscribers');

    const result = await manager.cancelAll({ scope: 'fleet' });
    expect(result.counts).toEqual({ cancelled: own.length + 7, alreadyDone: 0, failed: 0 });
    await until(() => settledBy(live).length === 8, 'the live worker cancelled its tasks', 10_000);
    expect(settledBy(live).map((r) => r.outcome)).toEqual(Array.from({ length: 8 }, () => 'cancelled'));
    await sleep(300);
    const counts = cancelCounts([...own, ...liveAgents, ...deadAgents], [...liveClouds, ...deadClouds]);
    figures.push({ scenario: 'cancelAll fleet', ownTasks: own.length, liveWorkerTasks: 8, orphans: 7, cancelled: counts.filter((c) => c >= 1).length, doubleCancels: counts.filter((c) => c > 1).length });
    expect(counts.every((count) => count === 1)).toBe(true);
    expect(live.tagged('ERROR')).toEqual([]);
  }, 60_000);
});

describe('RedisStore: recovery in a TaskManager', () => {
  it('resume: deadlines hold across the crash, and close() leaves tracked tasks recoverable at once', async () => {
    const prefix = newPrefix();
    const [late, onTime] = agentRuns(2);
    const seeder = await openStore('seeder', prefix);
    const deadline = Date.now() + 60_000;
    await seeder.add(storedTask(late!, 'ghost', { deadline: Date.now() - 1_000, status: 'in_progress' }));
    await seeder.add(storedTask(onTime!, 'ghost', { deadline, status: 'in_progress' }));

    const store = new RedisStore({ url: redis.url, prefix });
    const manager = new TaskManager({ ...clientsOf(sim), store, workerId: 'resumer', leaseMs: 1_000, poll: IDLE_POLL });
    managers.push(manager);
    const settled: TaskResult[] = [];
    manager.on('settled', (result) => settled.push(result));
    const report = await manager.recover({ policy: 'resume' });
    expect(report.claimed.map((ref) => ref.id).sort()).toEqual([late, onTime].sort());
    expect(report.skipped).toEqual([]);
    expect(report.cancel).toBeUndefined();
    await until(() => settled.length === 1, 'the task past its deadline is cancelled');
    expect(settled[0]).toMatchObject({ id: late, outcome: 'timed_out' });
    expect(sim.ledger.cancels.get(late!)).toBe(1);
    expect(manager.active()).toEqual([{ kind: 'agent', id: onTime }]);
    await until(async () => (await store.listByOwner('resumer')).length === 1, 'the store shows the resumed task under its new owner');
    expect((await store.listByOwner('resumer'))[0]).toMatchObject({ id: onTime, owner: 'resumer', deadline });

    await manager.close();
    expect(sim.ledger.cancels.get(onTime!) ?? 0).toBe(0);
    expect((await seeder.listExpired('seeder')).map((task) => [task.id, task.owner, task.deadline])).toEqual([[onTime, 'resumer', deadline]]);
  });
});

describe('RedisStore: Redis restarted mid-run', () => {
  it('the manager reconnects and loses no task: every task settles, the store lists the live ones', async () => {
    const server = await startRedisServer({ persist: true });
    const probeClient = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy: () => 100 });
    probeClient.on('error', () => {});
    try {
      const prefix = newPrefix();
      const workerId = 'restart-w';
      const store = new RedisStore({ url: server.url, prefix });
      const manager = new TaskManager({ ...clientsOf(sim), store, workerId, leaseMs: 6_000, poll: { initialMs: 100, maxMs: 200, factor: 2, jitter: 0 } });
      managers.push(manager);
      const errors: unknown[] = [];
      manager.on('error', ({ error }) => errors.push(error));
      await manager.ready();

      const endsDuring = agentRuns(10, 1_200);
      const endsAfter = agentRuns(10, 4_000);
      const liveAgents = agentRuns(10);
      const liveClouds = cloudTasks(5);
      const track = (ids: readonly string[], kind: 'agent' | 'cloud') => ids.map((id) => manager.track({ kind, id }));
      const ending = [...track(endsDuring, 'agent'), ...track(endsAfter, 'agent')];
      track(liveAgents, 'agent');
      track(liveClouds, 'cloud');
      await until(async () => (await store.listByOwner(workerId)).length === 35, 'every task is recorded');

      const stoppedAt = performance.now();
      await server.stop();
      // Tracked while Redis is down: the write waits for it.
      const addedDuring = agentRuns(5);
      track(addedDuring, 'agent');
      const during: TaskResult[] = await Promise.all(ending.slice(0, 10).map((handle) => handle.done));
      expect(server.running).toBe(false);
      await sleep(300);
      await server.start();
      const downMs = performance.now() - stoppedAt;
      const after: TaskResult[] = await Promise.all(ending.slice(10).map((handle) => handle.done));
      expect([...during, ...after].map((r) => r.outcome)).toEqual(Array.from({ length: 20 }, () => 'completed'));

      const expected = [...liveAgents.map((id) => `agent:${id}`), ...liveClouds.map((id) => `cloud:${id}`), ...addedDuring.map((id) => `agent:${id}`)].sort();
      const stored = async () => (await store.listByOwner(workerId)).map((t) => `${t.kind}:${t.id}`).sort();
      await until(async () => JSON.stringify(await stored()) === JSON.stringify(expected), 'the store lists exactly the live tasks', 15_000);
      await probeClient.connect();
      expect(await probeClient.exists(`${prefix}lease:${workerId}`)).toBe(1);
      expect(await probeClient.hget(`${prefix}task:agent:${liveAgents[0]}`, 'status')).toBe('in_progress');
      expect(errors).toEqual([]);
      figures.push({ scenario: 'Redis restarted mid-run', redisDownMs: Math.round(downMs), tasksTracked: 40, settledDuringOrAfter: 20, liveListedAfter: expected.length, writeErrors: errors.length });

      const report = await manager.shutdown({ graceMs: 10_000 });
      expect(report.cancel.counts).toEqual({ cancelled: 20, alreadyDone: 0, failed: 0 });
      expect(await probeClient.exists(`${prefix}tasks:${workerId}`, `${prefix}lease:${workerId}`)).toBe(0);
      expect(await probeClient.smembers(`${prefix}owners`)).toEqual([]);
    } finally {
      probeClient.disconnect();
      await server.dispose();
    }
  }, 60_000);
});
