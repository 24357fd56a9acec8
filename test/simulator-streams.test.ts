import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/simulator/index.js';

const START_MS = Date.parse('2025-01-01T00:00:00.000Z');

/** One Server-Sent Event: its `event:` name (none for the Agent API) and its parsed `data:` line. */
interface Message {
  readonly event: string | undefined;
  readonly data: any;
}

const opened: Simulator[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(opened.splice(0).map((sim) => sim.close()));
});

/** A simulator on a clock the test moves by hand, with `fetch` helpers bound to its keys. */
async function start(options: SimulatorOptions = {}) {
  const clock = { nowMs: START_MS };
  const sim = await createSimulator({ seed: 1, now: () => clock.nowMs, ...options });
  opened.push(sim);
  const get = (key: string) => async (path: string) => {
    const response = await fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, json: (await response.json()) as any };
  };
  const open = (key: string) => (path: string, signal?: AbortSignal) => openStream(`${sim.url}${path}`, key, signal);
  return { sim, clock, agent: get(sim.agentKey), cloud: get(sim.cloudKey), agentStream: open(sim.agentKey), cloudStream: open(sim.cloudKey) };
}

/** Opens a stream and reads it one event at a time; `next()` is undefined once it ends, and rejects if the connection drops. */
async function openStream(url: string, key: string, signal?: AbortSignal) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, ...(signal && { signal }) });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let ended = false;
  const next = async (): Promise<Message | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const field = (name: string) => lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
        return { event: field('event'), data: JSON.parse(field('data') ?? 'null') };
      }
      if (ended) return undefined;
      const { done, value } = await reader.read();
      if (done) ended = true;
      else buffer += value;
    }
  };
  const rest = async (): Promise<Message[]> => {
    const all: Message[] = [];
    for (let message = await next(); message; message = await next()) all.push(message);
    return all;
  };
  return { response, next, rest };
}

/** Waits (in small steps, with a bound) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

const types = (messages: readonly Message[]) => messages.map((message) => message.data.type);

describe('lists', () => {
  it('pages through every agent run exactly once, and filters by status in the list’s words', async () => {
    const { sim, agent, clock } = await start();
    const ids = new Set<string>();
    for (let i = 0; i < 7; i++) ids.add(sim.createAgentRun({ durationMs: i < 3 ? 10 : 10_000 }).runId);
    clock.nowMs += 100;
    const seen: string[] = [];
    for (let page = 1, hasMore = true; hasMore; page++) {
      const answer = (await agent(`/api/v1/tasks?page=${page}&limit=3`)).json;
      expect(answer).toMatchObject({ page, limit: 3 });
      seen.push(...answer.tasks.map((task: { runId: string }) => task.runId));
      hasMore = answer.hasMore;
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect((await agent('/api/v1/tasks?page=9&limit=3')).json).toMatchObject({ tasks: [], hasMore: false });
    expect((await agent('/api/v1/tasks?status=completed')).json.tasks).toHaveLength(3);
    expect((await agent('/api/v1/tasks?status=running')).json.tasks).toHaveLength(4);
    expect((await agent('/api/v1/tasks?status=constructor')).status).toBe(400);
  });

  it('lists 50 cloud tasks by default, with their prompt and createdAt, and pages through every one exactly once', async () => {
    const { sim, cloud, clock } = await start();
    const ids = new Set<string>();
    for (let i = 0; i < 60; i++) {
      ids.add(sim.createCloudTask({ prompt: `task ${i}` }).task.id);
      clock.nowMs += 1000;
    }
    const first = (await cloud('/api/tasks')).json;
    expect(first).toMatchObject({ limit: 50, offset: 0, hasMore: true });
    expect(first.tasks).toHaveLength(50);
    for (const task of first.tasks) {
      expect(task.prompt).toMatch(/^task \d+$/);
      expect(new Date(task.createdAt).toISOString()).toBe(task.createdAt);
    }
    const seen: string[] = [];
    for (let offset = 0, hasMore = true; hasMore; offset += 7) {
      const answer = (await cloud(`/api/tasks?limit=7&offset=${offset}`)).json;
      seen.push(...answer.tasks.map((task: { id: string }) => task.id));
      hasMore = answer.hasMore;
    }
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('filters cloud tasks by batch with filter, together with status', async () => {
    const { sim, cloud, clock } = await start();
    const single = sim.createCloudTask({ durationMs: 10 }).task.id;
    const batchDone = sim.createCloudTask({ durationMs: 10, batchId: 'batch-1' }).task.id;
    const batchActive = sim.createCloudTask({ durationMs: 10_000, batchId: 'batch-1' }).task.id;
    clock.nowMs += 100;
    const ids = async (query: string) => (await cloud(`/api/tasks?${query}`)).json.tasks.map((task: { id: string }) => task.id).sort();
    expect(await ids('filter=all')).toEqual([single, batchDone, batchActive].sort());
    expect(await ids('filter=tasks')).toEqual([single]);
    expect(await ids('filter=batch')).toEqual([batchDone, batchActive].sort());
    expect(await ids('filter=batch&status=active')).toEqual([batchActive]);
    expect(await ids('filter=tasks&status=active')).toEqual([]);
    expect((await cloud('/api/tasks?filter=mine')).status).toBe(400);
  });
});

describe('the agent get and logs', () => {
  it('gets a run with its prompt as the first message', async () => {
    const { sim, agent } = await start();
    const { runId } = sim.createAgentRun({ prompt: 'Write the docs' });
    expect((await agent(`/api/v1/tasks/${runId}`)).json.messages[0]).toMatchObject({ role: 'user', content: 'Write the docs' });
  });

  it('answers the logs of a finished run, with raw events only when asked and deltas left out when asked', async () => {
    const { sim, agent, clock } = await start();
    const { runId, chatId } = sim.createAgentRun({ durationMs: 1000 });
    clock.nowMs += 1000;
    const logs = (await agent(`/api/v1/tasks/${runId}/logs`)).json;
    expect(Object.keys(logs).sort()).toEqual(['chatId', 'error', 'eventCount', 'events', 'runId', 'source', 'status']);
    expect(logs).toMatchObject({ runId, chatId, status: 'completed', source: 'merged', error: null, eventCount: logs.events.length });
    expect(logs.events.map((event: { type: string }) => event.type)).toContain('text-delta');
    expect(logs.events.at(-1)).toEqual({ type: 'finish', runId, status: 'completed' });
    const raw = (await agent(`/api/v1/tasks/${runId}/logs?raw=true&includeDeltas=false`)).json;
    expect(raw.events.some((event: { type: string }) => event.type === 'text-delta')).toBe(false);
    expect(raw.eventCount).toBe(raw.events.length);
    expect(raw.eventCount).toBeLessThan(logs.eventCount);
    expect(raw.rawEvents).toHaveLength(logs.eventCount);
    expect(JSON.parse(raw.rawEvents[0].line)).toEqual(logs.events[0]);
  });

  it('answers from the buffer while a run is live and reconstructed after an interruption, with its error', async () => {
    const { sim, agent, clock } = await start();
    const live = sim.createAgentRun({ durationMs: 10_000 }).runId;
    const interrupted = sim.createAgentRun({ durationMs: 100, outcome: 'interrupted' }).runId;
    clock.nowMs += 500;
    expect((await agent(`/api/v1/tasks/${live}/logs`)).json).toMatchObject({ status: 'running', source: 'buffer', error: null });
    const lost = (await agent(`/api/v1/tasks/${interrupted}/logs`)).json;
    expect(lost).toMatchObject({ status: 'interrupted', source: 'reconstructed', error: expect.any(String) });
    expect(lost.events.slice(-2)).toEqual([
      { type: 'error', errorText: lost.error },
      { type: 'finish', runId: interrupted, status: 'interrupted' },
    ]);
  });

  it('refuses a logs query that is not a boolean, answering 400', async () => {
    const { sim, agent } = await start();
    const { runId } = sim.createAgentRun();
    expect((await agent(`/api/v1/tasks/${runId}/logs?raw=yes`)).status).toBe(400);
  });
});

describe('the agent log stream', () => {
  it('replays a finished run in one burst of unnamed events ending with finish, as the logs endpoint has them', async () => {
    const { sim, agent, agentStream, clock } = await start();
    const { runId } = sim.createAgentRun({ durationMs: 1000 });
    clock.nowMs += 5000;
    const stream = await agentStream(`/api/v1/tasks/${runId}/logs/stream`);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await stream.rest();
    expect(events.every((message) => message.event === undefined)).toBe(true);
    for (const type of ['session-init', 'text-start', 'text-delta', 'tool-call-start', 'tool-input-available', 'tool-output-available', 'files', 'result']) {
      expect(types(events), type).toContain(type);
    }
    expect(events.at(-1)?.data).toEqual({ type: 'finish', runId, status: 'completed' });
    expect(events.map((message) => message.data)).toEqual((await agent(`/api/v1/tasks/${runId}/logs`)).json.events);
    expect(sim.ledger.byRoute.get('agent.stream')).toBe(1);
  });

  it('leaves the text deltas out with includeDeltas=false and ends a failed run with an error event', async () => {
    const { sim, agentStream, clock } = await start();
    const { runId } = sim.createAgentRun({ durationMs: 1000, outcome: 'failed' });
    clock.nowMs += 1000;
    const events = await (await agentStream(`/api/v1/tasks/${runId}/logs/stream?includeDeltas=false`)).rest();
    expect(types(events)).not.toContain('text-delta');
    expect(types(events).slice(-2)).toEqual(['error', 'finish']);
    expect(events.at(-1)?.data.status).toBe('failed');
  });

  it('streams a live run as its events come due on the clock, then finish', async () => {
    const { sim, agent, agentStream, clock } = await start({ queuedMs: 100 });
    const { runId } = sim.createAgentRun({ durationMs: 1100 });
    const stream = await agentStream(`/api/v1/tasks/${runId}/logs/stream`);
    clock.nowMs += 100;
    expect((await stream.next())?.data.type).toBe('session-init');
    clock.nowMs += 500;
    const halfway = (await agent(`/api/v1/tasks/${runId}/logs`)).json;
    const received = [halfway.events[0]];
    while (received.length < halfway.eventCount) received.push((await stream.next())?.data);
    expect(received).toEqual(halfway.events);
    expect(received.map((data) => data.type)).not.toContain('finish');
    clock.nowMs += 500;
    received.push(...(await stream.rest()).map((message) => message.data));
    expect(received.length).toBeGreaterThan(halfway.eventCount);
    expect(received).toEqual((await agent(`/api/v1/tasks/${runId}/logs`)).json.events);
    expect(received.at(-1)).toEqual({ type: 'finish', runId, status: 'completed' });
  });

  it('ends the stream of a run with finish cancelled as soon as the run is cancelled', async () => {
    const { sim, agentStream, clock } = await start();
    const { runId } = sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY });
    const stream = await agentStream(`/api/v1/tasks/${runId}/logs/stream`);
    clock.nowMs += 500;
    expect((await stream.next())?.data.type).toBe('session-init');
    const cancel = await fetch(`${sim.url}/api/v1/tasks/${runId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sim.agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'cancel' }),
    });
    expect(cancel.status).toBe(200);
    const rest = await stream.rest();
    expect(rest.at(-1)?.data).toEqual({ type: 'finish', runId, status: 'cancelled' });
    expect(types(rest)).not.toContain('result');
  });

  it('answers 404 and 403 as JSON before any stream starts', async () => {
    const { sim, agent } = await start({ extraAgentKeys: ['sk-bob'] });
    const bobs = sim.createAgentRun({ owner: 'sk-bob' }).runId;
    expect(await agent('/api/v1/tasks/00000000-0000-4000-8000-000000000000/logs/stream')).toEqual({ status: 404, json: { error: 'Task not found' } });
    expect(await agent(`/api/v1/tasks/${bobs}/logs/stream`)).toEqual({ status: 403, json: { error: 'Forbidden' } });
    expect(sim.ledger.openStreams).toBe(0);
  });
});

describe('the cloud stream', () => {
  it('sends connected, every log numbered from 0, the status as it changes and complete', async () => {
    const { sim, cloudStream, clock } = await start();
    const { task } = sim.createCloudTask({ durationMs: 1000 });
    const stream = await cloudStream(`/api/tasks/${task.id}/stream`);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await stream.next()).toEqual({ event: 'connected', data: { taskId: task.id, fromIndex: 0, message: expect.any(String), timestamp: new Date(START_MS).toISOString() } });
    clock.nowMs += 1000;
    const events = await stream.rest();
    const logs = events.filter((message) => message.event === 'log');
    expect(logs.map((message) => message.data.index)).toEqual(logs.map((_, i) => i));
    expect(logs[0]?.data.log).toEqual({ type: 'system', contentType: 'text', message: 'Task queued', timestamp: new Date(START_MS).toISOString(), agent: 'claude', step: 1 });
    expect(logs.at(-1)?.data.log).toMatchObject({ type: 'success' });
    const statuses = events.filter((message) => message.event === 'status').map((message) => message.data);
    expect(statuses[0]).toEqual({ status: 'pending', error: null });
    expect(statuses.at(-1)).toEqual({ status: 'completed', error: null });
    expect(events.at(-1)).toEqual({ event: 'complete', data: { status: 'completed', totalLogs: logs.length, message: expect.any(String), timestamp: expect.any(String) } });
  });

  it('skips the logs before fromIndex and sends no status without includeStatus', async () => {
    const { sim, cloudStream, clock } = await start();
    const { task } = sim.createCloudTask({ durationMs: 1000, outcome: 'error' });
    clock.nowMs += 1000;
    const events = await (await cloudStream(`/api/tasks/${task.id}/stream?fromIndex=3&includeStatus=false`)).rest();
    expect(events[0]).toMatchObject({ event: 'connected', data: { fromIndex: 3 } });
    expect(events.some((message) => message.event === 'status')).toBe(false);
    const indexes = events.filter((message) => message.event === 'log').map((message) => message.data.index);
    const complete = events.at(-1);
    expect(complete).toMatchObject({ event: 'complete', data: { status: 'error' } });
    expect(indexes).toEqual(Array.from({ length: complete?.data.totalLogs - 3 }, (_, i) => i + 3));
  });

  it('resumes after dropped connections with fromIndex = last index + 1, with no repeat and no gap', async () => {
    const { sim, cloudStream, clock } = await start({ faults: { streamDropAfterEvents: 2 } });
    const { task } = sim.createCloudTask({ durationMs: 1000 });
    clock.nowMs += 2000;
    const seen: number[] = [];
    let complete: Message | undefined;
    let connections = 0;
    while (complete === undefined && connections < 50) {
      connections++;
      const stream = await cloudStream(`/api/tasks/${task.id}/stream?fromIndex=${(seen.at(-1) ?? -1) + 1}`);
      try {
        for (let message = await stream.next(); message; message = await stream.next()) {
          if (message.event === 'log') seen.push(message.data.index);
          if (message.event === 'complete') complete = message;
        }
      } catch {
        // The simulator dropped the connection: resume.
      }
    }
    expect(complete?.data.totalLogs).toBeGreaterThan(2);
    expect(seen).toEqual(Array.from({ length: complete?.data.totalLogs }, (_, i) => i));
    expect(connections).toBeGreaterThan(1);
    expect(sim.ledger.droppedStreams).toBe(connections - 1);
  });

  it('numbers the logs of a continued task after the earlier ones', async () => {
    const { sim, cloudStream, clock } = await start();
    const { task } = sim.createCloudTask({ durationMs: 1000 });
    clock.nowMs += 1000;
    const before = (await (await cloudStream(`/api/tasks/${task.id}/stream`)).rest()).at(-1)?.data.totalLogs;
    const continued = await fetch(`${sim.url}/api/tasks/${task.id}/continue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.cloudKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ currentPrompt: 'And the tests [sim:duration=500]' }),
    });
    expect(continued.status).toBe(200);
    clock.nowMs += 500;
    const events = await (await cloudStream(`/api/tasks/${task.id}/stream?fromIndex=${before}`)).rest();
    const logs = events.filter((message) => message.event === 'log');
    expect(logs[0]?.data).toMatchObject({ index: before, log: { message: 'Task continued', step: 1 } });
    expect(events.at(-1)?.data.totalLogs).toBe(before + logs.length);
  });

  it('answers 400, 401 and 404 as JSON before any stream starts', async () => {
    const { sim, cloud } = await start();
    const { task } = sim.createCloudTask();
    expect(await cloud('/api/tasks/nope/stream')).toEqual({ status: 404, json: { error: 'Task not found' } });
    expect((await cloud(`/api/tasks/${task.id}/stream?fromIndex=-1`)).status).toBe(400);
    expect((await cloud(`/api/tasks/${task.id}/stream?includeStatus=maybe`)).status).toBe(400);
    const unauthorized = await fetch(`${sim.url}/api/tasks/${task.id}/stream`);
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ error: 'Unauthorized' });
    expect(sim.ledger.openStreams).toBe(0);
  });
});

describe('stream lifetimes', () => {
  it('lets go of a stream its client aborts: no open stream, request or timer is left on the server', async () => {
    const { sim, agentStream, clock } = await start();
    const { runId } = sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY });
    const intervals = vi.spyOn(globalThis, 'setInterval');
    const cleared = vi.spyOn(globalThis, 'clearInterval');
    const controller = new AbortController();
    const stream = await agentStream(`/api/v1/tasks/${runId}/logs/stream`, controller.signal);
    clock.nowMs += 100;
    expect((await stream.next())?.data.type).toBe('session-init');
    expect(sim.ledger).toMatchObject({ openStreams: 1, inFlight: 0 });
    const timers = intervals.mock.results.map((result) => result.value);
    expect(timers).toHaveLength(1);
    controller.abort();
    await until(() => sim.ledger.openStreams === 0);
    expect(cleared.mock.calls.map(([timer]) => timer)).toContain(timers[0]);
    expect(sim.ledger.inFlight).toBe(0);
    expect(sim.ledger.byStatusCode.get(200)).toBe(1);
  });

  it('resolves close() with open streams of both APIs, after ending them (the cloud one with an error event)', async () => {
    const { sim, agentStream, cloudStream } = await start();
    const { runId } = sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY });
    const { task } = sim.createCloudTask({ durationMs: Number.POSITIVE_INFINITY });
    const agentEvents = (await agentStream(`/api/v1/tasks/${runId}/logs/stream`)).rest().catch((error: unknown) => error);
    const cloudEvents = (await cloudStream(`/api/tasks/${task.id}/stream`)).rest().catch((error: unknown) => error);
    await until(() => sim.ledger.openStreams === 2);
    await sim.close();
    expect(sim.ledger.openStreams).toBe(0);
    expect(await agentEvents).toEqual([]);
    expect(((await cloudEvents) as Message[]).at(-1)).toEqual({ event: 'error', data: { error: 'Server shutting down' } });
  });
});
