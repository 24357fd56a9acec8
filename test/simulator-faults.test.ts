import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/simulator/index.js';

const START_MS = Date.parse('2025-01-01T00:00:00.000Z');

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly json: any;
}

type Call = (method: string, path: string, body?: unknown, key?: string | null) => Promise<Answer>;

const opened: Simulator[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((sim) => sim.close()));
});

/** A simulator on a clock the test moves by hand, and a raw `fetch` caller for each API. */
async function start(options: SimulatorOptions = {}) {
  const clock = { nowMs: START_MS };
  const sim = await createSimulator({ seed: 1, now: () => clock.nowMs, ...options });
  opened.push(sim);
  return { sim, clock, agent: caller(sim, sim.agentKey), cloud: caller(sim, sim.cloudKey) };
}

function caller(sim: Simulator, defaultKey: string): Call {
  return async (method, path, body, key = defaultKey) => {
    const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${sim.url}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
  };
}

describe('lost answers', () => {
  it('creates the agent run of a create whose answer is lost, so the client sees a reset but the list shows the run', async () => {
    const { sim, agent } = await start({ faults: { lostAnswerRate: 1 } });
    await expect(agent('POST', '/api/v1/tasks', { prompt: 'Lost in transit' })).rejects.toThrow(TypeError);
    expect(sim.ledger.lostAnswers).toBe(1);
    expect(sim.ledger.byStatusCode.size).toBe(0);
    sim.setFaults({ lostAnswerRate: 0 });
    const listed = (await agent('GET', '/api/v1/tasks')).json.tasks;
    expect(listed).toHaveLength(1);
    const detail = (await agent('GET', `/api/v1/tasks/${listed[0].runId}`)).json;
    expect(detail.messages[0]).toMatchObject({ role: 'user', content: 'Lost in transit' });
  });

  it('creates the cloud task of a create whose answer is lost, and lists it with its prompt', async () => {
    const { sim, cloud } = await start({ faults: { lostAnswerRate: 1 } });
    await expect(cloud('POST', '/api/tasks', { prompt: 'Build the site' })).rejects.toThrow(TypeError);
    sim.setFaults({ lostAnswerRate: 0 });
    const listed = (await cloud('GET', '/api/tasks')).json.tasks;
    expect(listed).toEqual([expect.objectContaining({ prompt: 'Build the site', createdAt: new Date(START_MS).toISOString() })]);
  });

  it('applies a cancel and a stop whose answers are lost', async () => {
    const { sim, agent, cloud, clock } = await start();
    const { runId } = sim.createAgentRun({ durationMs: 10_000 });
    const taskId = sim.createCloudTask({ durationMs: 10_000 }).task.id;
    clock.nowMs += 500;
    sim.setFaults({ lostAnswerRate: 1 });
    await expect(agent('PATCH', `/api/v1/tasks/${runId}`, { action: 'cancel' })).rejects.toThrow(TypeError);
    await expect(cloud('PATCH', `/api/tasks/${taskId}`, { action: 'stop' })).rejects.toThrow(TypeError);
    expect(sim.getAgentRun(runId)?.status).toBe('cancelled');
    expect(sim.getCloudTask(taskId)?.status).toBe('stopped');
    expect(sim.ledger.cancels.get(runId)).toBe(1);
    expect(sim.ledger.lostAnswers).toBe(2);
    expect(Object.values(sim.ledger.faults).every((n) => n === 0)).toBe(true);
    sim.ledger.reset();
    expect(sim.ledger.lostAnswers).toBe(0);
  });
});

describe('the rate limit', () => {
  it('answers 429 with the whole seconds until the next token once the burst is spent, and serves again after that wait', async () => {
    const { sim, agent, cloud, clock } = await start({ faults: { rateLimit: { requestsPerSecond: 0.5, burst: 3 } } });
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
    expect((await cloud('GET', '/api/tasks')).status).toBe(200);
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
    const limited = await cloud('GET', '/api/tasks');
    expect(limited).toMatchObject({ status: 429, json: { error: 'Too many requests' } });
    expect(limited.headers.get('retry-after')).toBe('2');
    clock.nowMs += 1000;
    expect((await agent('GET', '/api/v1/tasks')).headers.get('retry-after')).toBe('1');
    clock.nowMs += 1000;
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(429);
    expect(sim.ledger.rateLimited).toBe(3);
    expect(sim.ledger.byStatusCode.get(429)).toBe(3);
    expect(sim.ledger.faults.rate429).toBe(0);
  });

  it('sends a Retry-After of at least 1 second when tokens come faster than that', async () => {
    const { agent } = await start({ faults: { rateLimit: { requestsPerSecond: 20, burst: 1 } } });
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
    const limited = await agent('GET', '/api/v1/tasks');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
  });

  it('spends no token on requests without a valid key', async () => {
    const { agent } = await start({ faults: { rateLimit: { requestsPerSecond: 1, burst: 1 } } });
    for (let i = 0; i < 3; i++) expect((await agent('GET', '/api/v1/tasks', undefined, 'sk-wrong')).status).toBe(401);
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
  });

  it('starts a full bucket on every setFaults that gives a limit, keeps it across other changes and turns off with null', async () => {
    const { sim, agent } = await start();
    sim.setFaults({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
    sim.setFaults({ errorRate: 0 });
    expect(sim.faults.rateLimit).toEqual({ requestsPerSecond: 1, burst: 1 });
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(429);
    sim.setFaults({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
    sim.setFaults({ rateLimit: null });
    expect(sim.faults.rateLimit).toBeNull();
    for (let i = 0; i < 3; i++) expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
  });
});

describe('the new fault knobs', () => {
  it('default to no lost answers, no rate limit and no dropped streams, and clear back to that', async () => {
    const { sim } = await start({ faults: { lostAnswerRate: 0.5, rateLimit: { requestsPerSecond: 2, burst: 4 }, streamDropAfterEvents: 3 } });
    expect(sim.faults).toMatchObject({ lostAnswerRate: 0.5, rateLimit: { requestsPerSecond: 2, burst: 4 }, streamDropAfterEvents: 3 });
    sim.clearFaults();
    expect(sim.faults).toMatchObject({ lostAnswerRate: 0, rateLimit: null, streamDropAfterEvents: Number.POSITIVE_INFINITY });
  });

  it('refuses out-of-range values and changes nothing then', async () => {
    const { sim } = await start({ faults: { rateLimit: { requestsPerSecond: 2, burst: 4 } } });
    const invalid = [
      { lostAnswerRate: 1.5 },
      { lostAnswerRate: -0.1 },
      { rateLimit: { requestsPerSecond: 0, burst: 1 } },
      { rateLimit: { requestsPerSecond: Number.POSITIVE_INFINITY, burst: 1 } },
      { rateLimit: { requestsPerSecond: 1, burst: 0 } },
      { rateLimit: { requestsPerSecond: 1, burst: 1.5 } },
      { streamDropAfterEvents: 0 },
      { streamDropAfterEvents: 2.5 },
    ];
    for (const faults of invalid) expect(() => sim.setFaults(faults), JSON.stringify(faults)).toThrow(RangeError);
    expect(() => sim.setFaults({ rateLimit: 'fast' as never })).toThrow(TypeError);
    expect(sim.faults).toMatchObject({ lostAnswerRate: 0, rateLimit: { requestsPerSecond: 2, burst: 4 }, streamDropAfterEvents: Number.POSITIVE_INFINITY });
    await expect(createSimulator({ faults: { rateLimit: { requestsPerSecond: -1, burst: 1 } } })).rejects.toThrow(RangeError);
  });
});
