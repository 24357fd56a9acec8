/**
 * FileStore: the journal on its own (round trips, torn and corrupt lines, compaction, the lock against
 * real processes, claims), then with a TaskManager against the simulator: a worker process tracks
 * tasks through a FileStore and is SIGKILLed, and another manager on the same journal recovers them.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient, CloudClient, TaskManager, type TaskRef, type TaskResult } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { replayJournal } from '../src/stores/file-journal.js';
import { FileStore, type FileStoreOptions } from '../src/stores/file.js';
import type { StoredTask } from '../src/stores/types.js';
import { startNode, stopAll, until } from '../tools/child.js';
import { simulatorEnv, type PlainResult } from './fixtures/protocol.js';

let dir: string;
let journal: string;
let lockFile: string;
const stores: FileStore[] = [];
const managers: TaskManager[] = [];

beforeEach(() => {
  dir = mkdtempSync(`${tmpdir()}/taskguard-`);
  journal = join(dir, 'state', 'tasks.jsonl'); // a directory that does not exist yet
  lockFile = `${journal}.lock`;
});

afterEach(async () => {
  await stopAll();
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
  await Promise.all(stores.splice(0).map((store) => store.close().catch(() => {})));
  rmSync(dir, { recursive: true, force: true });
});

function fileStore(options: Partial<FileStoreOptions> = {}): FileStore {
  const store = new FileStore({ path: journal, ...options });
  stores.push(store);
  return store;
}

async function opened(workerId: string, options: Partial<FileStoreOptions> = {}): Promise<FileStore> {
  const store = fileStore(options);
  await store.open(workerId);
  return store;
}

const T0 = 1_767_225_600_000;
const rec = (id: string, owner = 'w1', extra: Partial<StoredTask> = {}): StoredTask => ({ kind: 'agent', id, owner, deadline: null, status: null, trackedAt: T0, ...extra });
const ref = (id: string): TaskRef => ({ kind: 'agent', id });
const byId = (tasks: readonly StoredTask[]): StoredTask[] => [...tasks].sort((a, b) => a.id.localeCompare(b.id));
const journalLines = (): string[] => readFileSync(journal, 'utf8').split('\n').filter((line) => line !== '');

/** A pid that belonged to a process which has exited (and been reaped). */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined) throw new Error('could not start a short-lived process');
  return pid;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('FileStore: the journal', () => {
  it('round-trips add, update, remove and listByOwner, one JSON line per change', async () => {
    const store = await opened('w1');
    await store.add(rec('a'));
    await store.add(rec('b'));
    await store.add(rec('c', 'w2'));
    await store.update(ref('a'), { status: 'in_progress', deadline: T0 + 60_000 });
    await store.update(ref('missing'), { status: 'ignored' });
    await store.remove(ref('b'));
    await store.add(rec('c', 'w1', { status: 'queued' })); // replaces c, now w1's

    expect(byId(await store.listByOwner('w1'))).toEqual([rec('a', 'w1', { status: 'in_progress', deadline: T0 + 60_000 }), rec('c', 'w1', { status: 'queued' })]);
    expect(await store.listByOwner('w2')).toEqual([]);
    expect(journalLines().map((line) => JSON.parse(line) as unknown)).toEqual([
      { op: 'add', task: rec('a') },
      { op: 'add', task: rec('b') },
      { op: 'add', task: rec('c', 'w2') },
      { op: 'update', kind: 'agent', id: 'a', patch: { status: 'in_progress', deadline: T0 + 60_000 } },
      { op: 'remove', kind: 'agent', id: 'b' },
      { op: 'add', task: rec('c', 'w1', { status: 'queued' }) },
    ]);
    expect(store.stats()).toMatchObject({ records: 2, lines: 6, bytes: statSync(journal).size });
  });

  it('keeps its records across close and a new open, where they are expired; new ones are not', async () => {
    const first = await opened('w1');
    await first.add(rec('a'));
    await first.add(rec('b'));
    await first.update(ref('a'), { status: 'running' });
    await first.close();
    expect(existsSync(lockFile)).toBe(false);

    const second = await opened('w2');
    expect(byId(await second.listByOwner('w1'))).toEqual([rec('a', 'w1', { status: 'running' }), rec('b')]);
    expect(byId(await second.listExpired('w2'))).toEqual([rec('a', 'w1', { status: 'running' }), rec('b')]);
    await second.add(rec('own', 'w2'));
    expect((await second.listExpired('w2')).map((task) => task.id).sort()).toEqual(['a', 'b']);
  });

  it('treats records found at open as a dead process\'s even under the same workerId, until claimed once', async () => {
    const first = await opened('w1');
    await first.add(rec('a'));
    await first.close();

    const restarted = await opened('w1');
    expect(await restarted.listExpired('w1')).toEqual([rec('a')]);
    expect(await restarted.claim(ref('a'), 'w1', 'w1')).toBe(true);
    expect(await restarted.claim(ref('a'), 'w1', 'w1')).toBe(false);
    expect(await restarted.listExpired('w1')).toEqual([]);
    expect(await restarted.listByOwner('w1')).toEqual([rec('a')]);
  });

  it.each([
    ['a cut-off line without its newline', '{"op":"remove","kind":"agent","id":"a"'],
    ['an invalid last line', '{"op":"add","task":{"kind":"ag\n'],
    ['zero bytes left by a power cut', '\0\0\0\0\0\0\0\0'],
  ])('ignores and truncates a torn last line (%s), recovering the rest', async (_, torn) => {
    const first = await opened('w1');
    await first.add(rec('a'));
    await first.add(rec('b'));
    await first.close();
    const goodSize = statSync(journal).size;
    appendFileSync(journal, torn);

    const second = await opened('w2');
    expect(byId(await second.listExpired('w2'))).toEqual([rec('a'), rec('b')]);
    expect(second.stats().tornBytes).toBe(Buffer.byteLength(torn));
    expect(statSync(journal).size).toBe(goodSize);
    await second.add(rec('c', 'w2'));
    await second.close();

    const third = await opened('w3');
    expect((await third.listExpired('w3')).map((task) => task.id).sort()).toEqual(['a', 'b', 'c']);
    expect(third.stats().tornBytes).toBe(0);
  });

  it.each([
    ['not JSON', 'this is not JSON'],
    ['a record missing its fields', '{"op":"add","task":{"kind":"agent"}}'],
    ['an unknown op', '{"op":"rename","kind":"agent","id":"a"}'],
  ])('rejects a corrupt line in the middle (%s), naming file and line, and drops nothing', async (_, bad) => {
    mkdirSync(dirname(journal), { recursive: true });
    const good = [JSON.stringify({ op: 'add', task: rec('a') }), JSON.stringify({ op: 'add', task: rec('b') })];
    const content = `${good[0]}\n${bad}\n${good[1]}\n`;
    writeFileSync(journal, content);

    const error = await rejection(fileStore().open('w2'));
    expect(error.message).toContain(journal);
    expect(error.message).toMatch(/corrupt at line 2 \(byte \d+\)/);
    expect(error.message).toContain('Nothing was dropped');
    expect(readFileSync(journal, 'utf8')).toBe(content);
    expect(existsSync(lockFile)).toBe(false); // the lock was released

    writeFileSync(journal, `${good.join('\n')}\n`); // repaired by hand
    const repaired = await opened('w2');
    expect(byId(await repaired.listExpired('w2'))).toEqual([rec('a'), rec('b')]);
  });

  it('compacts once the journal outgrows its live records, keeping exactly them', async () => {
    const store = await opened('w1', { fsync: 'never' });
    for (let i = 0; i < 10; i++) await store.add(rec(`keep-${i}`));
    for (let i = 0; i < 600; i++) {
      await store.add(rec(`gone-${i}`));
      await store.update(ref(`gone-${i}`), { status: 'running' });
      await store.remove(ref(`gone-${i}`));
    }
    const stats = store.stats();
    expect(stats.compactions).toBeGreaterThanOrEqual(1);
    // 1 810 lines were written; after the last compaction only what came since is left.
    expect(journalLines().length).toBe(stats.lines);
    expect(stats.lines).toBeLessThan(1_000);
    expect(statSync(journal).size).toBe(stats.bytes);
    expect(existsSync(`${journal}.tmp`)).toBe(false);
    expect(stats.records).toBe(10);
    await store.close();

    const reopened = await opened('w2');
    expect((await reopened.listExpired('w2')).map((task) => task.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `keep-${i}`).sort());
  });

  it('compacts on open when the journal it finds is mostly dead lines', async () => {
    mkdirSync(dirname(journal), { recursive: true });
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) lines.push(JSON.stringify({ op: 'add', task: rec(`live-${i}`) }));
    for (let i = 0; i < 1_000; i++) lines.push(JSON.stringify({ op: 'add', task: rec(`done-${i}`) }), JSON.stringify({ op: 'remove', kind: 'agent', id: `done-${i}` }));
    writeFileSync(journal, `${lines.join('\n')}\n`);
    const before = statSync(journal).size;

    const store = await opened('w2');
    expect(store.stats()).toMatchObject({ compactions: 1, records: 5, lines: 5 });
    expect(journalLines()).toHaveLength(5);
    expect(statSync(journal).size).toBeLessThan(before / 100);
    await store.add(rec('after', 'w2')); // the new file is the journal now
    expect(journalLines()).toHaveLength(6);
    expect((await store.listExpired('w2')).map((task) => task.id).sort()).toEqual(['live-0', 'live-1', 'live-2', 'live-3', 'live-4']);
  });

  it('keeps the order of many writes made without waiting for each other', async () => {
    const store = await opened('w1');
    const model = new Map<string, StoredTask>();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) {
      const id = `t${i % 40}`; // the same refs again and again: order matters
      if (i % 3 === 0) {
        writes.push(store.add(rec(id, 'w1', { trackedAt: T0 + i })));
        model.set(id, rec(id, 'w1', { trackedAt: T0 + i }));
      } else if (i % 3 === 1) {
        writes.push(store.update(ref(id), { status: `s${i}` }));
        const current = model.get(id);
        if (current) model.set(id, { ...current, status: `s${i}` });
      } else if (i % 7 === 2) {
        writes.push(store.remove(ref(id)));
        model.delete(id);
      }
    }
    await Promise.all(writes);
    expect(byId(await store.listByOwner('w1'))).toEqual(byId([...model.values()]));
    await store.close();
    const reopened = await opened('w2');
    expect(byId(await reopened.listByOwner('w1'))).toEqual(byId([...model.values()]));
  });

  it('claims a record exactly once, and never a live record of its own', async () => {
    const first = await opened('dead');
    await first.add(rec('a', 'dead'));
    await first.add(rec('b', 'dead'));
    await first.close();

    const store = await opened('w2');
    const claims = await Promise.all([store.claim(ref('a'), 'dead', 'w2'), store.claim(ref('a'), 'dead', 'w3')]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.claim(ref('a'), 'dead', 'w2')).toBe(false); // already moved
    expect(await store.claim(ref('b'), 'someone-else', 'w2')).toBe(false); // not from that owner
    expect(await store.claim(ref('missing'), 'dead', 'w2')).toBe(false);
    await store.add(rec('own', 'w2'));
    expect(await store.claim(ref('own'), 'w2', 'w3')).toBe(false); // live, not expired
    expect(journalLines().at(-2)).toBe(JSON.stringify({ op: 'update', kind: 'agent', id: 'a', patch: { owner: claims[0] ? 'w2' : 'w3' } }));
    await store.close();

    const reopened = await opened('w4');
    expect((await reopened.listByOwner(claims[0] ? 'w2' : 'w3')).map((task) => task.id).sort()).toEqual(claims[0] ? ['a', 'own'] : ['a']);
  });

  it('rejects every call before open and after close; a second close resolves', async () => {
    const store = fileStore();
    expect((await rejection(store.add(rec('a')))).message).toMatch(/is not open/);
    await store.open('w1');
    await store.add(rec('a'));
    await store.close();
    expect(existsSync(lockFile)).toBe(false);
    const calls: Promise<unknown>[] = [
      store.add(rec('b')),
      store.update(ref('a'), { status: 'x' }),
      store.remove(ref('a')),
      store.listByOwner('w1'),
      store.listExpired('w1'),
      store.claim(ref('a'), 'w1', 'w2'),
      store.renewLease(),
      store.releaseLease(),
      store.open('w1'),
    ];
    for (const call of calls) expect((await rejection(call)).message).toMatch(new RegExp(`FileStore ${journal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is closed`));
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('refuses bad input: a TypeError from the constructor naming the option, a rejection from a method', async () => {
    expect(() => new FileStore(undefined as unknown as FileStoreOptions)).toThrow(TypeError);
    expect(() => new FileStore({} as FileStoreOptions)).toThrow(/path must be a non-empty file path/);
    expect(() => new FileStore({ path: '' })).toThrow(/path/);
    expect(() => new FileStore({ path: journal, fsync: 'sometimes' as 'always' })).toThrow(/fsync must be "always" or "never"/);
    expect(existsSync(dirname(journal))).toBe(false); // the constructor touched nothing
    const store = await opened('w1');
    await expect(store.add({ ...rec('a'), deadline: Number.NaN })).rejects.toThrow(/task.deadline must be a finite number or null/);
    await expect(store.update(ref('a'), { status: 42 as unknown as string })).rejects.toThrow(/patch.status/);
    await expect(store.open('w1')).rejects.toThrow(/already open/);
    expect(journalLines()).toEqual([]);
  });
});

describe('FileStore: the lock', () => {
  it('rejects a second open while another process holds the journal, naming its pid', async () => {
    const holder = startNode('test/fixtures/file-store-holder.ts', { env: { TG_STORE_PATH: journal } });
    const { pid } = JSON.parse(await holder.waitFor('READY')) as { pid: number };
    expect(pid).not.toBe(process.pid);
    const error = await rejection(fileStore().open('w2'));
    expect(error.message).toContain(`${journal} is locked by pid ${pid}`);
    expect(error.message).toContain('two processes cannot share a FileStore journal');
    expect(holder.alive).toBe(true);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid, hostname: hostname() });
  });

  it('rejects a second FileStore of the same journal in this process', async () => {
    await opened('w1');
    const error = await rejection(fileStore().open('w2'));
    expect(error.message).toContain(`is locked by pid ${process.pid} (this process`);
  });

  it('takes over the lock of a process that was killed, and finds its records', async () => {
    const holder = startNode('test/fixtures/file-store-holder.ts', { env: { TG_STORE_PATH: journal, TG_RECORDS: '3', TG_WORKER_ID: 'killed' } });
    await holder.waitFor('READY');
    holder.signal('SIGKILL');
    await holder.exited;
    expect(existsSync(lockFile)).toBe(true); // a crash leaves its lock behind

    const store = await opened('w2');
    expect((await store.listExpired('w2')).map((task) => [task.id, task.owner]).sort()).toEqual([
      ['held-0', 'killed'],
      ['held-1', 'killed'],
      ['held-2', 'killed'],
    ]);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, workerId: 'w2' });
  });

  it('takes over a stale lock naming a dead pid, and an empty lock left long ago', async () => {
    mkdirSync(dirname(journal), { recursive: true });
    writeFileSync(lockFile, JSON.stringify({ pid: deadPid(), workerId: 'ghost', hostname: hostname(), nonce: 'n', createdAt: 0 }));
    const first = await opened('w1');
    await first.close();

    writeFileSync(lockFile, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile, old, old);
    await opened('w2');
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, workerId: 'w2' });
  });

  it('refuses a lock held on another host, since it cannot tell whether that process lives', async () => {
    mkdirSync(dirname(journal), { recursive: true });
    writeFileSync(lockFile, JSON.stringify({ pid: 4242, workerId: 'far', hostname: `not-${hostname()}`, nonce: 'n', createdAt: 0 }));
    const error = await rejection(fileStore().open('w1'));
    expect(error.message).toMatch(/locked by pid 4242 on host not-.*, not this host/);
    expect(existsSync(lockFile)).toBe(true);
  });

  it('stops writing once another process has taken its lock; a deleted lock is put back', async () => {
    const store = await opened('w1');
    rmSync(lockFile);
    await store.renewLease();
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, workerId: 'w1' });

    writeFileSync(lockFile, JSON.stringify({ pid: 4242, workerId: 'usurper', hostname: hostname(), nonce: 'other', createdAt: 0 }));
    await expect(store.renewLease()).rejects.toThrow(/lost the lock .* now names pid 4242/);
    await expect(store.add(rec('a'))).rejects.toThrow(/lost the lock/);
    await store.close();
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ workerId: 'usurper' }); // not ours to remove
  });
});

describe('FileStore with a TaskManager: a killed worker\'s tasks are recovered', () => {
  let sim: Simulator;

  beforeEach(async () => {
    // Tasks never end on their own unless a test says so: every cancel the ledger shows was needed.
    sim = await createSimulator({ queuedMs: 20, savingMs: 20, defaultDurationMs: Number.POSITIVE_INFINITY });
  });

  afterEach(async () => {
    await stopAll();
    await Promise.all(managers.splice(0).map((manager) => manager.close()));
    await sim.close();
  });

  interface TaskSpec {
    readonly kind: 'agent' | 'cloud';
    readonly id: string;
    readonly timeoutMs?: number;
  }

  function startWorker(tasks: readonly TaskSpec[], env: Record<string, string> = {}) {
    return startNode('test/fixtures/file-store-worker.ts', {
      env: {
        ...simulatorEnv(sim),
        TG_STORE_PATH: journal,
        TG_TASKS: JSON.stringify(tasks),
        ...env,
      },
    });
  }

  /** Starts a worker on `tasks`, waits until they are all in its journal, and SIGKILLs it. */
  async function killedWorker(tasks: readonly TaskSpec[], env: Record<string, string> = {}): Promise<void> {
    const worker = startWorker(tasks, env);
    const ready = JSON.parse(await worker.waitFor('READY')) as { tracked: number };
    expect(ready.tracked).toBe(tasks.length);
    worker.signal('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');
    expect(existsSync(lockFile)).toBe(true);
  }

  function manager(store: FileStore): TaskManager {
    const created = new TaskManager({
      agent: new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }),
      cloud: new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url }),
      store,
      poll: { initialMs: 50, maxMs: 200, factor: 2, jitter: 0 },
    });
    managers.push(created);
    return created;
  }

  function agentRuns(count: number, durationMs?: number): TaskSpec[] {
    return Array.from({ length: count }, () => ({ kind: 'agent' as const, id: sim.createAgentRun(durationMs === undefined ? {} : { durationMs }).runId }));
  }

  /** Cloud tasks, once `processing` (a stop is refused before). */
  async function cloudTasks(count: number, durationMs?: number): Promise<TaskSpec[]> {
    const specs = Array.from({ length: count }, () => ({ kind: 'cloud' as const, id: sim.createCloudTask(durationMs === undefined ? {} : { durationMs }).task.id }));
    await until(() => specs.every(({ id }) => sim.getCloudTask(id)?.status === 'processing'), 'the cloud tasks are processing');
    return specs;
  }

  /** Cancels (agent) or stops (cloud) the simulator received for each task. */
  function cancelsOf(tasks: readonly TaskSpec[]): number[] {
    return tasks.map(({ kind, id }) => (kind === 'agent' ? sim.ledger.cancels.get(id) : sim.ledger.stops.get(id)) ?? 0);
  }

  /** Every cancel and stop request the server handled, whichever task it named. */
  function cancelRequests(): number {
    return (sim.ledger.byRoute.get('agent.update') ?? 0) + (sim.ledger.byRoute.get('cloud.stop') ?? 0);
  }

  function journalRecords(): Map<string, StoredTask> {
    return replayJournal(readFileSync(journal), journal).tasks;
  }

  it('policy cancel: a new manager on the journal claims all 50 tasks and cancels each exactly once', async () => {
    const tasks = [...agentRuns(25), ...(await cloudTasks(25))];
    await killedWorker(tasks);
    expect(cancelsOf(tasks).every((count) => count === 0)).toBe(true);
    expect(journalRecords().size).toBe(50);

    const settled: TaskResult[] = [];
    const cancelRequestsBefore = cancelRequests();
    const started = performance.now();
    const recovering = manager(new FileStore({ path: journal }));
    recovering.on('settled', (result) => settled.push(result));
    const report = await recovering.recover({ policy: 'cancel' });
    const recoverMs = performance.now() - started;

    expect(report.claimed).toHaveLength(50);
    expect(report.skipped).toEqual([]);
    expect(report.cancel?.counts).toEqual({ cancelled: 50, alreadyDone: 0, failed: 0 });
    await until(() => recovering.active().length === 0, 'every recovered task has settled');
    expect(settled.map((result) => result.outcome)).toEqual(Array(50).fill('cancelled'));
    // From the server's request count, not from the per-task counts asserted below: the figure is
    // printed whatever it is, then held to 0.
    const counts = cancelsOf(tasks);
    const doubleCancels = cancelRequests() - cancelRequestsBefore - counts.filter((count) => count > 0).length;
    console.info(`[figures] FileStore recover({ policy: 'cancel' }): 50 tasks claimed and cancelled in ${recoverMs.toFixed(0)} ms (open + replay + claims + cancels); double cancels: ${doubleCancels}`);
    expect(doubleCancels).toBe(0);
    expect(counts).toEqual(Array(50).fill(1));

    await recovering.close();
    expect(journalRecords().size).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  });

  it('policy resume: a task past its stored deadline is cancelled as timed_out, the others are tracked to the end', async () => {
    const late = [...agentRuns(10), ...(await cloudTasks(5))].map((task) => ({ ...task, timeoutMs: 1_000 }));
    const onTime = [...agentRuns(10, 8_000), ...(await cloudTasks(5, 8_000))];
    await killedWorker([...late, ...onTime]);
    const stored = journalRecords();
    const deadlines = [...stored.values()].map((task) => task.deadline).filter((deadline): deadline is number => deadline !== null);
    expect(deadlines).toHaveLength(late.length);
    await until(() => Date.now() > Math.max(...deadlines) + 20, 'the stored deadlines have passed');

    const outcomes = new Map<string, string>();
    const recovering = manager(new FileStore({ path: journal }));
    recovering.on('settled', (result) => outcomes.set(result.id, result.outcome));
    const report = await recovering.recover({ policy: 'resume' });
    expect(report.claimed).toHaveLength(30);
    expect(report.cancel).toBeUndefined();

    await until(() => late.every(({ id }) => outcomes.has(id)), 'the late tasks have settled', 5_000);
    expect(late.map(({ id }) => outcomes.get(id))).toEqual(Array(15).fill('timed_out'));
    expect(onTime.some(({ id }) => outcomes.has(id))).toBe(false); // still tracked
    expect(recovering.active()).toHaveLength(15);

    await until(() => recovering.active().length === 0, 'the other tasks have completed', 15_000);
    expect(onTime.map(({ id }) => outcomes.get(id))).toEqual(Array(15).fill('completed'));
    expect(cancelsOf(late)).toEqual(Array(15).fill(1));
    expect(cancelsOf(onTime)).toEqual(Array(15).fill(0));
    await recovering.close();
    expect(journalRecords().size).toBe(0);
  });

  it('a worker killed and restarted under the same workerId recovers its own tasks', async () => {
    const tasks = [...agentRuns(15), ...(await cloudTasks(5))];
    await killedWorker(tasks, { TG_WORKER_ID: 'worker-1' });

    const restarted = startWorker([], { TG_WORKER_ID: 'worker-1', TG_RECOVER: 'cancel' });
    const recovered = JSON.parse(await restarted.waitFor('RECOVERED')) as { claimed: number; skipped: number; ms: number; counts: unknown };
    expect(recovered).toMatchObject({ claimed: 20, skipped: 0, counts: { cancelled: 20, alreadyDone: 0, failed: 0 } });
    await until(() => restarted.tagged('SETTLED').length === 20, 'the restarted worker settled every task');
    expect(restarted.tagged('SETTLED').map((line) => (JSON.parse(line) as PlainResult).outcome)).toEqual(Array(20).fill('cancelled'));
    expect(cancelsOf(tasks)).toEqual(Array(20).fill(1));
    await until(() => journalRecords().size === 0, 'the journal is empty of those tasks');
    console.info(`[figures] restarted FileStore worker: recover({ policy: 'cancel' }) of 20 tasks took ${recovered.ms.toFixed(0)} ms in the child`);
  });

  it('cancelAll({ scope: "fleet" }) cancels this worker\'s tasks and the dead one\'s, each once', async () => {
    const orphans = agentRuns(10);
    await killedWorker(orphans);
    const own = agentRuns(2);
    const recovering = manager(new FileStore({ path: journal }));
    for (const task of own) recovering.track(task);
    const result = await recovering.cancelAll({ scope: 'fleet' });
    expect(result.results).toHaveLength(12);
    expect(result.counts).toEqual({ cancelled: 12, alreadyDone: 0, failed: 0 });
    expect(cancelsOf([...orphans, ...own])).toEqual(Array(12).fill(1));
  });
});
