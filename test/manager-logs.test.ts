/** TaskManager.logs(): the kind's log stream over loopback, ending with the task or the manager. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentClient, CloudClient, TaskManager, ValidationError } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

let sim: Simulator;
let manager: TaskManager;

beforeEach(async () => {
  sim = await createSimulator({ seed: 9, queuedMs: 20, savingMs: 20 });
  manager = new TaskManager({
    agent: new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url }),
    cloud: new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url }),
  });
});

afterEach(async () => {
  await manager.close();
  await sim.close();
});

describe('TaskManager.logs', () => {
  it("streams an agent run's events as they come and ends with its finish", async () => {
    const { runId } = sim.createAgentRun({ durationMs: 300 });
    const types: string[] = [];
    for await (const event of manager.logs({ kind: 'agent', id: runId })) types.push(event.type);
    expect(types[0]).toBe('session-init');
    expect(types.at(-1)).toBe('finish');
  });

  it("streams a cloud task's named events and ends with complete", async () => {
    const { task } = sim.createCloudTask({ durationMs: 300 });
    const events: string[] = [];
    for await (const { event } of manager.logs({ kind: 'cloud', id: task.id })) events.push(event);
    expect(events[0]).toBe('connected');
    expect(events).toContain('log');
    expect(events.at(-1)).toBe('complete');
  });

  it('ends an open stream when the manager closes, leaving no stream open on the server', async () => {
    const { runId } = sim.createAgentRun({ durationMs: 600_000 });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of manager.logs({ kind: 'agent', id: runId })) seen.push(event.type);
    })();
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBeGreaterThan(0);
    await manager.close();
    await expect(reading).rejects.toThrow(/closed/);
    await expect.poll(() => sim.ledger.openStreams, { timeout: 5_000 }).toBe(0);
  });

  it('refuses a kind it has no client for', () => {
    expect(() => manager.logs({ kind: 'build', id: '42' })).toThrow(ValidationError);
  });
});
