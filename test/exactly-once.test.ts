/**
 * Exactly-once start (SPEC §7) against the simulator over loopback: a create whose answer is lost is
 * looked up, never blindly resent; one that made nothing is sent again; duplicates are all watched.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient, CloudClient, TaskManager, type ReconciledEvent, type TaskManagerOptions } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

let sim: Simulator;
let manager: TaskManager | undefined;

beforeEach(async () => {
  sim = await createSimulator({ seed: 11, queuedMs: 20, defaultDurationMs: Number.POSITIVE_INFINITY });
});

afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await sim.close();
});

type Mischief = 'loseAnswer' | 'refuse500';

/**
 * A fetch that spoils the first `count` creates: `loseAnswer` lets the server make the task and then
 * fails like a reset connection; `refuse500` answers 500 without the server seeing the request.
 */
function spoilingFetch(mischief: Mischief, count = 1): typeof fetch {
  let left = count;
  return async (input, init) => {
    // ky hands over a Request; it is sent as it came (a new Request around it would have a signal that
    // only follows the original's).
    const { method, url } = input as Request;
    const isCreate = method === 'POST' && !new URL(url).pathname.endsWith('/continue');
    if (!isCreate || left === 0) return fetch(input, init);
    left--;
    if (mischief === 'refuse500') return new Response('{"error":"Internal server error"}', { status: 500, headers: { 'content-type': 'application/json' } });
    const answer = await fetch(input, init);
    await answer.arrayBuffer();
    throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
  };
}

function makeManager(fetchImpl: typeof fetch, options: Partial<TaskManagerOptions> = {}): { manager: TaskManager; events: ReconciledEvent[] } {
  const clientOptions = { baseUrl: sim.url, fetch: fetchImpl, retryBackoff: { initialMs: 10 } };
  const created = new TaskManager({
    agent: new AgentClient({ apiKey: sim.agentKey, ...clientOptions }),
    cloud: new CloudClient({ apiKey: sim.cloudKey, ...clientOptions }),
    poll: { initialMs: 50, maxMs: 200 },
    reconcile: { settleMs: 50 },
    ...options,
  });
  manager = created;
  const events: ReconciledEvent[] = [];
  created.on('reconciled', (event) => events.push(event));
  return { manager: created, events };
}

async function agentRunsWithPrompt(prompt: string): Promise<string[]> {
  const client = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
  const { tasks } = await client.listTasks({ limit: 100 });
  const ids: string[] = [];
  for (const run of tasks) {
    const detail = await client.getTask(run.runId);
    if (detail.messages.some((message) => message['content'] === prompt)) ids.push(run.runId);
  }
  return ids;
}

async function cloudTasksWithPrompt(prompt: string): Promise<string[]> {
  const { tasks } = await new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url }).listTasks({ limit: 100 });
  return tasks.filter((task) => task.prompt === prompt).map((task) => task.id);
}

describe('a create whose answer was lost after the server made the task', () => {
  it('adopts the agent run it made instead of making another, with the intended deadline', async () => {
    const { manager, events } = makeManager(spoilingFetch('loseAnswer'));
    const before = Date.now();
    const handle = await manager.start('agent', { prompt: 'Fix the flaky login test' }, { timeoutMs: 60_000 });
    const runs = await agentRunsWithPrompt('Fix the flaky login test');
    expect(runs).toEqual([handle.ref.id]);
    expect(handle.reconciled).toBe(true);
    expect(handle.created.runId).toBe(handle.ref.id);
    expect(handle.deadline).toBeGreaterThanOrEqual(before + 60_000);
    expect(handle.deadline).toBeLessThan(Date.now() + 60_000);
    expect(events).toEqual([{ kind: 'agent', outcome: 'adopted', refs: [handle.ref] }]);
    expect(manager.active()).toEqual([handle.ref]);
  });

  it('adopts the cloud task it made, found by the prompt the list carries', async () => {
    const { manager, events } = makeManager(spoilingFetch('loseAnswer'));
    const handle = await manager.start('cloud', { prompt: 'Upgrade the lockfile' });
    expect(await cloudTasksWithPrompt('Upgrade the lockfile')).toEqual([handle.ref.id]);
    expect(handle.reconciled).toBe(true);
    expect(handle.created.task.id).toBe(handle.ref.id);
    expect(events.map((e) => e.outcome)).toEqual(['adopted']);
  });

  it('tracks every task when several match, and cancels the extras only when asked to', async () => {
    const prompt = 'Bump the version';
    const other = await new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url }).createTask({ prompt });
    const { manager, events } = makeManager(spoilingFetch('loseAnswer'), { reconcile: { settleMs: 50, duplicates: 'cancel' } });
    const handle = await manager.start('cloud', { prompt });
    const both = await cloudTasksWithPrompt(prompt);
    expect(both).toHaveLength(2);
    expect(events).toHaveLength(1);
    expect(events[0]!.outcome).toBe('ambiguous');
    expect(events[0]!.refs.map((ref) => ref.id).sort()).toEqual([...both].sort());
    // The oldest is the one handed back; the other one is cancelled, not left unwatched.
    expect(handle.ref.id).toBe(other.task.id);
    const extra = both.find((id) => id !== other.task.id)!;
    await expect.poll(() => sim.getCloudTask(extra)?.status, { timeout: 5_000 }).toBe('stopped');
  });
});

describe('a create that failed without making anything', () => {
  it('is sent again after two looks at the list find nothing: one task in the end', async () => {
    const { manager, events } = makeManager(spoilingFetch('refuse500'));
    const handle = await manager.start('agent', { prompt: 'Write the migration guide' });
    // Two looks at the list, and one create that reached the server.
    expect(sim.ledger.byRoute.get('agent.list')).toBe(2);
    expect(sim.ledger.byRoute.get('agent.create')).toBe(1);
    expect(await agentRunsWithPrompt('Write the migration guide')).toEqual([handle.ref.id]);
    expect(handle.reconciled).toBe(false);
    expect(events).toEqual([{ kind: 'agent', outcome: 'notCreated', refs: [] }]);
  });

  it('rejects with the create error when reconciliation is off, having sent one create', async () => {
    const { manager } = makeManager(spoilingFetch('loseAnswer'), { reconcile: false });
    await expect(manager.start('agent', { prompt: 'Never mind' })).rejects.toMatchObject({ name: 'ConnectionError', mayHaveBeenApplied: true });
    expect(sim.ledger.byRoute.get('agent.create')).toBe(1);
    expect(sim.ledger.byRoute.get('agent.list')).toBeUndefined();
  });
});

describe('200 concurrent starts while 30 % of all answers are lost', () => {
  it('makes exactly one task per start and watches every task it made', async () => {
    const { manager, events } = makeManager(fetch, { reconcile: { settleMs: 200 } });
    // Polls that lose their answer are retried on the manager's backoff: expected here, not warnings.
    manager.on('error', () => {});
    sim.setFaults({ lostAnswerRate: 0.3 });
    const prompts = Array.from({ length: 200 }, (_, i) => `Chaos start ${i}: refactor module ${i}`);
    const started = await Promise.allSettled(prompts.map((prompt, i) => (i % 2 ? manager.start('agent', { prompt }) : manager.start('cloud', { prompt }))));
    const lostCreates = sim.ledger.lostAnswers;
    sim.setFaults({ lostAnswerRate: 0 });
    expect(started.filter((s) => s.status === 'rejected')).toEqual([]);
    const handles = started.map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<TaskManager['start']>>>).value);

    // Every task on the server: one per prompt, and each one tracked.
    const client = { agent: new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }), cloud: new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url }) };
    const [runs, tasks] = await Promise.all([client.agent.listTasks({ limit: 100 }), client.cloud.listTasks({ limit: 100 })]);
    const onServer = [...runs.tasks.map((run) => `agent:${run.runId}`), ...tasks.tasks.map((task) => `cloud:${task.id}`)];
    expect(runs.hasMore || tasks.hasMore).toBe(false);
    const tracked = new Set(manager.active().map((ref) => `${ref.kind}:${ref.id}`));
    const untracked = onServer.filter((key) => !tracked.has(key));
    const perStart = onServer.length / prompts.length;
    expect(untracked).toEqual([]);
    expect(perStart).toBe(1);
    expect(new Set(handles.map((h) => h.ref.id)).size).toBe(200);

    const reconciliations = events.length;
    const lookups = ['agent.list', 'cloud.list', 'agent.get'].reduce((sum, route) => sum + (sim.ledger.byRoute.get(route as 'agent.list') ?? 0), 0);
    const adopted = events.filter((e) => e.outcome === 'adopted').length;
    console.info(
      `[figures] exactly-once, 200 starts at 30 % lost answers: tasks per start ${perStart.toFixed(2)}, never tracked ${untracked.length}, ` +
        `lost answers (all routes) ${lostCreates}, reconciliations ${reconciliations} (adopted ${adopted}, notCreated ${events.filter((e) => e.outcome === 'notCreated').length}, ambiguous ${events.filter((e) => e.outcome === 'ambiguous').length}), ` +
        `list and get requests ${lookups} = ${(lookups / Math.max(1, reconciliations)).toFixed(2)} per reconciliation`,
    );
    expect(adopted).toBeGreaterThan(0);
    expect(handles.filter((h) => h.reconciled)).toHaveLength(adopted + events.filter((e) => e.outcome === 'ambiguous').length);
  }, 60_000);
});
