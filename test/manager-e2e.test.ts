import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentClient, AuthenticationError, CloudClient, NotFoundError, TaskManager, type TaskRef } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

let sim: Simulator;
let manager: TaskManager;

beforeEach(async () => {
  sim = await createSimulator({ seed: 1, queuedMs: 20, savingMs: 20 });
});

afterEach(async () => {
  manager?.close();
  await sim.close();
});

function makeManager(options: { concurrency?: number; agentKey?: string } = {}): TaskManager {
  manager = new TaskManager({
    agent: new AgentClient({ apiKey: options.agentKey ?? sim.agentKey, baseUrl: sim.url, retryBackoff: { initialMs: 20 } }),
    cloud: new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retryBackoff: { initialMs: 20 } }),
    concurrency: options.concurrency ?? 16,
    poll: { initialMs: 20, maxMs: 100, jitter: 0.5 },
  });
  return manager;
}

const agent = (id: string): TaskRef => ({ kind: 'agent', id });
const cloud = (id: string): TaskRef => ({ kind: 'cloud', id });

describe('TaskManager against the simulator', () => {
  it('settles agent runs with the outcome of each terminal status, keeping the raw word', async () => {
    const m = makeManager();
    const runs = (['completed', 'failed', 'interrupted'] as const).map((outcome) => sim.createAgentRun({ durationMs: 150, outcome }).runId);
    const results = await Promise.all(runs.map((id) => m.track(agent(id)).done));
    expect(results.map((r) => [r.outcome, r.status])).toEqual([
      ['completed', 'completed'],
      ['failed', 'failed'],
      ['interrupted', 'interrupted'],
    ]);
  });

  it('settles cloud tasks by isDone: error and the server timeout are failed', async () => {
    const m = makeManager();
    const ids = (['completed', 'error', 'timeout'] as const).map((outcome) => sim.createCloudTask({ durationMs: 150, outcome }).task.id);
    const results = await Promise.all(ids.map((id) => m.track(cloud(id)).done));
    expect(results.map((r) => [r.outcome, r.status])).toEqual([
      ['completed', 'completed'],
      ['failed', 'error'],
      ['failed', 'timeout'],
    ]);
  });

  it('reports a run cancelled by someone else as cancelled', async () => {
    const m = makeManager();
    const { runId } = sim.createAgentRun({ durationMs: 60_000 });
    const done = m.track(agent(runId)).done;
    await new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }).cancel(runId);
    expect(await done).toMatchObject({ outcome: 'cancelled', status: 'cancelled' });
  });

  it('cancels a run and stops a task at their deadline, once each, as timed_out', async () => {
    const m = makeManager();
    const { runId } = sim.createAgentRun({ durationMs: 60_000 });
    const { task } = sim.createCloudTask({ durationMs: 60_000 });
    const [run, cloudTask] = await Promise.all([m.track(agent(runId), { timeoutMs: 200 }).done, m.track(cloud(task.id), { timeoutMs: 200 }).done]);
    expect(run).toMatchObject({ outcome: 'timed_out', status: 'cancelled' });
    expect(cloudTask).toMatchObject({ outcome: 'timed_out', status: 'stopped' });
    expect(sim.ledger.cancels.get(runId)).toBe(1);
    expect(sim.ledger.stops.get(task.id)).toBe(1);
    expect(sim.getAgentRun(runId)?.status).toBe('cancelled');
    expect(sim.getCloudTask(task.id)?.status).toBe('stopped');
  });

  it('keeps the stop of a still-pending cloud task armed and sends it once the task is processing', async () => {
    await sim.close();
    sim = await createSimulator({ seed: 2, queuedMs: 400 });
    const m = makeManager();
    const failures: number[] = [];
    m.on('cancelFailed', (e) => failures.push(e.attempts));
    const { task } = sim.createCloudTask({ durationMs: 60_000 });
    const result = await m.track(cloud(task.id), { timeoutMs: 50 }).done;
    expect(result).toMatchObject({ outcome: 'timed_out', status: 'stopped' });
    // A refusal of a task that has not started is no failure: one stop refused (400), one that stopped it.
    expect(failures).toEqual([]);
    expect(sim.ledger.stops.get(task.id)).toBe(2);
  });

  it('counts a cloud task that already finished as alreadyDone when asked to stop it', async () => {
    const m = makeManager();
    const { task } = sim.createCloudTask({ durationMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { counts, results } = await m.cancelMany([cloud(task.id)]);
    expect(counts).toEqual({ cancelled: 0, alreadyDone: 1, failed: 0 });
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { result: 'alreadyDone', status: { state: 'completed' } } });
  });

  it('ends a task the API does not know as lost, and one it refuses (401) as error', async () => {
    const lost = await makeManager().track(agent('00000000-0000-4000-8000-000000000000')).done;
    expect(lost.outcome).toBe('lost');
    expect(lost.error).toBeInstanceOf(NotFoundError);
    manager.close();
    const { runId } = sim.createAgentRun({ durationMs: 60_000 });
    const refused = await makeManager({ agentKey: 'sk-wrong' }).track(agent(runId)).done;
    expect(refused.outcome).toBe('error');
    expect(refused.error).toBeInstanceOf(AuthenticationError);
    expect(String(refused.error?.message)).not.toContain('sk-wrong');
  });

  it('bulk-cancels 200 runs under the concurrency cap, each exactly once', async () => {
    sim.setFaults({ latencyMs: 5 });
    const m = makeManager({ concurrency: 8 });
    const refs = Array.from({ length: 200 }, () => agent(sim.createAgentRun({ durationMs: 60_000 }).runId));
    for (const ref of refs.slice(0, 100)) m.track(ref);
    const { counts, results } = await m.cancelMany([...refs, refs[0]!]);
    expect(counts).toEqual({ cancelled: 201, alreadyDone: 0, failed: 0 });
    expect(results.map((r) => r.ref)).toEqual([...refs, refs[0]]);
    expect(refs.every((ref) => sim.ledger.cancels.get(ref.id) === 1)).toBe(true);
    expect(sim.ledger.peakConcurrent).toBeLessThanOrEqual(8);
    await Promise.all(refs.slice(0, 100).map((ref) => m.track(ref).done));
  });

  it('starts runs and tasks and shuts down what is left, reporting it', async () => {
    const m = makeManager();
    const quick = await m.start('agent', { prompt: 'quick [sim:duration=50]' });
    const slowRun = await m.start('agent', { prompt: 'slow [sim:duration=60000]' });
    const slowTask = await m.start('cloud', { prompt: 'slow [sim:duration=60000]' });
    expect(quick.created.runId).toBe(quick.ref.id);
    expect(slowTask.created.task.id).toBe(slowTask.ref.id);
    expect((await quick.done).outcome).toBe('completed');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const report = await m.shutdown({ graceMs: 5_000 });
    expect(report.settled.map((r) => [r.kind, r.outcome]).sort()).toEqual([['agent', 'cancelled'], ['cloud', 'cancelled']]);
    expect(report.unconfirmed).toEqual([]);
    expect(sim.ledger.cancels.get(slowRun.ref.id)).toBe(1);
    expect(sim.ledger.stops.get(slowTask.ref.id)).toBe(1);
    expect(m.stats()).toMatchObject({ tracked: 0, timersArmed: 0, requests: 0 });
  });

  it('cancels a run whose caller went away while its create was in flight, instead of orphaning it', async () => {
    sim.setFaults({ latencyMs: 200 });
    const m = makeManager();
    const controller = new AbortController();
    const settled: unknown[] = [];
    m.on('settled', (r) => settled.push(r));
    const starting = m.start('agent', { prompt: 'long [sim:duration=60000]' }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client left')), 50);
    await expect(starting).rejects.toThrow('client left');
    await vi.waitFor(() => expect(settled).toHaveLength(1), { timeout: 5_000 });
    expect(settled[0]).toMatchObject({ kind: 'agent', outcome: 'cancelled', status: 'cancelled' });
    expect([...sim.ledger.cancels.values()]).toEqual([1]);
  });

  it('keeps tracking through 500s, HTML 502s and resets, and still ends every task', async () => {
    sim.setFaults({ errorRate: 0.2, htmlErrorRate: 0.05, resetRate: 0.05 });
    const m = makeManager();
    const refs = Array.from({ length: 30 }, (_, i) =>
      i % 2 ? agent(sim.createAgentRun({ durationMs: 100 + i * 10 }).runId) : cloud(sim.createCloudTask({ durationMs: 100 + i * 10 }).task.id),
    );
    const results = await Promise.all(refs.map((ref) => m.track(ref, { timeoutMs: 20_000 }).done));
    expect(results.every((r) => r.outcome === 'completed')).toBe(true);
  });
});
