import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../src/simulator/index.js';

const START_MS = Date.parse('2025-01-01T00:00:00.000Z');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NANOID = /^[A-Za-z0-9_-]{21}$/;

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: any;
}

type Call = (method: string, path: string, body?: unknown, init?: { signal?: AbortSignal; key?: string | null }) => Promise<Answer>;

const opened: Simulator[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((sim) => sim.close()));
});

/** A simulator on a clock the test moves by hand, and a raw `fetch` caller for each API. */
async function start(options: SimulatorOptions = {}) {
  const clock = { nowMs: START_MS, broken: false };
  const sim = await createSimulator({
    seed: 1,
    now: () => {
      if (clock.broken) throw new Error('clock is broken');
      return clock.nowMs;
    },
    ...options,
  });
  opened.push(sim);
  return { sim, clock, agent: caller(sim, sim.agentKey), cloud: caller(sim, sim.cloudKey) };
}

function caller(sim: Simulator, defaultKey: string): Call {
  return async (method, path, body, init = {}) => {
    const key = init.key === undefined ? defaultKey : init.key;
    const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      ...(init.signal && { signal: init.signal }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
}

/** Waits (in small steps, with a bound) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

describe('the Agent API', () => {
  it('creates a run and answers its IDs, taking message as an alias of prompt', async () => {
    const { agent } = await start();
    const created = await agent('POST', '/api/v1/tasks', { prompt: 'Add a CHANGELOG', agent: 'claude', model: 'm1' });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(created.json).sort()).toEqual(['agentCount', 'assistantMessageId', 'chatId', 'runId', 'taskId']);
    for (const id of ['taskId', 'runId', 'assistantMessageId', 'chatId']) expect(created.json[id]).toMatch(UUID);
    expect(created.json.agentCount).toBe(1);
    const viaMessage = await agent('POST', '/api/v1/tasks', { message: 'Same, by message' });
    expect(viaMessage.status).toBe(200);
    expect(viaMessage.json.runId).not.toBe(created.json.runId);
  });

  it('refuses a create without a prompt, with an unknown agent or with invalid JSON, answering 400', async () => {
    const { agent } = await start();
    expect(await agent('POST', '/api/v1/tasks', {})).toMatchObject({ status: 400, json: { error: expect.any(String) } });
    expect((await agent('POST', '/api/v1/tasks', { prompt: '   ' })).status).toBe(400);
    expect((await agent('POST', '/api/v1/tasks', { prompt: 'x', agent: 'gpt' })).status).toBe(400);
    expect(await agent('POST', '/api/v1/tasks', '{not json')).toMatchObject({ status: 400, json: { error: 'Invalid JSON' } });
    expect((await agent('POST', '/api/v1/tasks', '[1]')).status).toBe(400);
  });

  it('plays a run out as pending, in_progress, completed on the status endpoint and queued, running, completed elsewhere', async () => {
    const { agent, clock } = await start({ queuedMs: 50, defaultDurationMs: 1000 });
    const { runId } = (await agent('POST', '/api/v1/tasks', { prompt: 'p' })).json;
    const seen = async () => ({
      status: (await agent('GET', `/api/v1/tasks/${runId}/status`)).json,
      get: (await agent('GET', `/api/v1/tasks/${runId}`)).json.status,
      list: (await agent('GET', '/api/v1/tasks')).json.tasks[0].status,
    });
    expect(await seen()).toMatchObject({ status: { runId, status: 'pending', startedAt: null, completedAt: null, error: null }, get: 'queued', list: 'queued' });
    clock.nowMs += 50;
    const running = await seen();
    expect(running).toMatchObject({ status: { status: 'in_progress', startedAt: new Date(START_MS + 50).toISOString() }, get: 'running', list: 'running' });
    expect(running.status.progress).toBeGreaterThan(0);
    clock.nowMs = START_MS + 1000;
    expect(await seen()).toMatchObject({
      status: { status: 'completed', progress: 100, completedAt: new Date(START_MS + 1000).toISOString() },
      get: 'completed',
      list: 'completed',
    });
    clock.nowMs += 60_000;
    expect((await seen()).status.status).toBe('completed');
  });

  it('reports failed and interrupted outcomes with an error, and never ends a run of infinite duration', async () => {
    const { sim, agent, clock } = await start();
    const failed = sim.createAgentRun({ durationMs: 100, outcome: 'failed' });
    const interrupted = sim.createAgentRun({ durationMs: 100, outcome: 'interrupted' });
    const hung = sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY });
    clock.nowMs += 365 * 24 * 3_600_000;
    expect((await agent('GET', `/api/v1/tasks/${failed.runId}/status`)).json).toMatchObject({ status: 'failed', error: expect.any(String) });
    expect((await agent('GET', `/api/v1/tasks/${interrupted.runId}`)).json).toMatchObject({ status: 'interrupted', error: expect.any(String) });
    expect((await agent('GET', `/api/v1/tasks/${hung.runId}/status`)).json).toMatchObject({ status: 'in_progress', completedAt: null });
  });

  it('gets a run with its conversation', async () => {
    const { agent } = await start();
    const created = (await agent('POST', '/api/v1/tasks', { prompt: 'Fix the bug', model: 'm1' })).json;
    const detail = await agent('GET', `/api/v1/tasks/${created.runId}`);
    expect(detail.status).toBe(200);
    expect(detail.json).toMatchObject({
      taskId: created.taskId,
      runId: created.runId,
      chatId: created.chatId,
      status: 'queued',
      model: 'm1',
      createdAt: new Date(START_MS).toISOString(),
      startedAt: null,
      completedAt: null,
      error: null,
      messages: [{ role: 'user', content: 'Fix the bug' }, { id: created.assistantMessageId, role: 'assistant' }],
    });
  });

  it('lists the caller’s runs newest first, one page at a time, filtered by status in either vocabulary', async () => {
    const { sim, agent, clock } = await start({ extraAgentKeys: ['sk-other'] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(sim.createAgentRun({ durationMs: i < 2 ? 10 : 10_000 }).runId);
      clock.nowMs += 1;
    }
    sim.createAgentRun({ owner: 'sk-other' });
    clock.nowMs += 100;
    const first = (await agent('GET', '/api/v1/tasks?page=1&limit=2')).json;
    expect(first).toMatchObject({ page: 1, limit: 2, hasMore: true });
    expect(first.tasks.map((t: { runId: string }) => t.runId)).toEqual([ids[4], ids[3]]);
    expect(Object.keys(first.tasks[0]).sort()).toEqual(
      ['assistantMessageId', 'chatId', 'completedAt', 'createdAt', 'model', 'runId', 'startedAt', 'status', 'taskId'].sort(),
    );
    const last = (await agent('GET', '/api/v1/tasks?page=3&limit=2')).json;
    expect(last).toMatchObject({ page: 3, hasMore: false, tasks: [{ runId: ids[0] }] });
    const completed = (await agent('GET', '/api/v1/tasks?status=completed')).json;
    expect(completed.tasks.map((t: { runId: string }) => t.runId)).toEqual([ids[1], ids[0]]);
    expect((await agent('GET', '/api/v1/tasks?status=in_progress')).json.tasks).toHaveLength(3);
    expect((await agent('GET', '/api/v1/tasks?limit=100')).json.tasks).toHaveLength(5);
  });

  it('refuses a list with a limit outside 1–100, a page below 1 or an unknown status, answering 400', async () => {
    const { agent } = await start();
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'page=0', 'page=-1', 'page=1.5', 'status=sleeping']) {
      expect((await agent('GET', `/api/v1/tasks?${query}`)).status, query).toBe(400);
    }
  });

  it('cancels a running run once, and answers 400 "already cancelled" to the next cancel', async () => {
    const { sim, agent, clock } = await start();
    const { runId } = sim.createAgentRun({ durationMs: 10_000 });
    clock.nowMs += 500;
    const cancelled = await agent('PATCH', `/api/v1/tasks/${runId}`, { action: 'cancel' });
    expect(cancelled).toMatchObject({ status: 200, json: { success: true, status: 'cancelled', message: `Task ${runId} cancelled successfully` } });
    expect(sim.getAgentRun(runId)).toMatchObject({ status: 'cancelled', cancelledAtMs: START_MS + 500, completedAtMs: START_MS + 500 });
    clock.nowMs += 20_000;
    expect((await agent('GET', `/api/v1/tasks/${runId}/status`)).json).toMatchObject({ status: 'cancelled', completedAt: new Date(START_MS + 500).toISOString() });
    expect(await agent('PATCH', `/api/v1/tasks/${runId}`, { action: 'cancel' })).toMatchObject({ status: 400, json: { error: 'Task is already cancelled' } });
  });

  it('refuses to cancel a completed run and leaves it completed', async () => {
    const { sim, agent, clock } = await start();
    const { runId } = sim.createAgentRun({ durationMs: 100 });
    clock.nowMs += 100;
    expect(await agent('PATCH', `/api/v1/tasks/${runId}`, { action: 'cancel' })).toMatchObject({ status: 400, json: { error: 'Task is already completed' } });
    expect(sim.getAgentRun(runId)).toMatchObject({ status: 'completed', cancelledAtMs: null });
  });

  it('lets a cancel sent with a title take precedence, and renames a run when only a title is sent', async () => {
    const { sim, agent } = await start();
    const renamed = sim.createAgentRun();
    const both = sim.createAgentRun();
    expect(await agent('PATCH', `/api/v1/tasks/${renamed.runId}`, { title: 'New name' })).toMatchObject({
      status: 200,
      json: { success: true, status: 'queued', message: 'Task title updated' },
    });
    expect(sim.getAgentRun(renamed.runId)).toMatchObject({ title: 'New name', status: 'queued' });
    expect((await agent('PATCH', `/api/v1/tasks/${both.runId}`, { action: 'cancel', title: 'Ignored' })).json).toMatchObject({ status: 'cancelled' });
    expect(sim.getAgentRun(both.runId)).toMatchObject({ status: 'cancelled', title: null });
  });

  it('refuses an update with invalid JSON, no field, another action or a bad title, answering 400', async () => {
    const { sim, agent } = await start();
    const { runId } = sim.createAgentRun();
    const path = `/api/v1/tasks/${runId}`;
    for (const body of ['{', '{}', { action: 'stop' }, { action: 'CANCEL' }, { title: '' }, { title: 'x'.repeat(201) }, { title: 7 }]) {
      expect((await agent('PATCH', path, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await agent('PATCH', path, { title: 'x'.repeat(200) })).status).toBe(200);
    expect(sim.getAgentRun(runId)?.status).toBe('queued');
  });

  it('continues a run as a new run in the same chat', async () => {
    const { sim, agent } = await start();
    const first = sim.createAgentRun({ durationMs: 10 });
    const next = await agent('POST', `/api/v1/tasks/${first.runId}/continue`, { prompt: 'And the tests', agent: 'codex' });
    expect(next.status).toBe(200);
    expect(Object.keys(next.json).sort()).toEqual(['assistantMessageId', 'chatId', 'previousRunId', 'runId']);
    expect(next.json).toMatchObject({ chatId: first.chatId, previousRunId: first.runId });
    expect(next.json.runId).toMatch(UUID);
    expect(next.json.runId).not.toBe(first.runId);
    expect(sim.getAgentRun(next.json.runId)).toMatchObject({ status: 'queued', previousRunId: first.runId, prompt: 'And the tests' });
    expect((await agent('POST', `/api/v1/tasks/${first.runId}/continue`, {})).status).toBe(400);
  });
});

describe('the Cloud API', () => {
  it('creates a task pending, with a nanoid-like ID', async () => {
    const { cloud } = await start();
    const created = await cloud('POST', '/api/tasks', { prompt: 'Build it', repoUrl: 'https://github.com/o/r', selectedAgent: 'claude' });
    expect(created.status).toBe(200);
    expect(created.json.task).toMatchObject({
      status: 'pending',
      prompt: 'Build it',
      repoUrl: 'https://github.com/o/r',
      userId: expect.any(String),
      createdAt: new Date(START_MS).toISOString(),
      updatedAt: new Date(START_MS).toISOString(),
    });
    expect(created.json.task.id).toMatch(NANOID);
    expect((await cloud('POST', '/api/tasks', { repoUrl: 'x' })).status).toBe(400);
  });

  it('plays a task out as pending, processing, saving then completed, with inProgress, isDone, progress and duration', async () => {
    const { cloud, clock } = await start({ queuedMs: 50, savingMs: 100, defaultDurationMs: 12_000 });
    const { id } = (await cloud('POST', '/api/tasks', { prompt: 'p' })).json.task;
    const status = async () => (await cloud('GET', `/api/tasks/${id}/status`)).json;
    expect(await status()).toMatchObject({ taskId: id, status: 'pending', inProgress: true, isDone: false, progress: 0, completedAt: null, error: null, duration: '0s' });
    clock.nowMs = START_MS + 6_000;
    expect(await status()).toMatchObject({ status: 'processing', inProgress: true, isDone: false, progress: 50, duration: '6s' });
    clock.nowMs = START_MS + 11_950;
    expect(await status()).toMatchObject({ status: 'saving', inProgress: true, isDone: false, updatedAt: new Date(START_MS + 11_900).toISOString() });
    clock.nowMs = START_MS + 60_000;
    const done = new Date(START_MS + 12_000).toISOString();
    expect(await status()).toMatchObject({ status: 'completed', inProgress: false, isDone: true, progress: 100, completedAt: done, updatedAt: done, duration: '12s' });
    expect((await cloud('GET', `/api/tasks/${id}`)).json).toMatchObject({ task: { id, status: 'completed', completedAt: done } });
  });

  it('ends tasks in error or timeout as done, with an error', async () => {
    const { sim, cloud, clock } = await start();
    const error = sim.createCloudTask({ durationMs: 100, outcome: 'error' }).task.id;
    const timeout = sim.createCloudTask({ durationMs: 100, outcome: 'timeout' }).task.id;
    clock.nowMs += 100;
    expect((await cloud('GET', `/api/tasks/${error}/status`)).json).toMatchObject({ status: 'error', isDone: true, inProgress: false, error: expect.any(String) });
    expect((await cloud('GET', `/api/tasks/${timeout}/status`)).json).toMatchObject({ status: 'timeout', isDone: true, error: expect.any(String) });
  });

  it('stops a task only while it is processing or saving, answering 400 while pending and once done', async () => {
    const { sim, cloud, clock } = await start({ queuedMs: 50, savingMs: 100 });
    const pending = sim.createCloudTask({ durationMs: 1000 }).task.id;
    const saving = sim.createCloudTask({ durationMs: 1000 }).task.id;
    const done = sim.createCloudTask({ durationMs: 10 }).task.id;
    const stop = (id: string) => cloud('PATCH', `/api/tasks/${id}`, { action: 'stop' });
    expect(await stop(pending)).toMatchObject({ status: 400, json: { error: 'Task is not in progress' } });
    clock.nowMs += 60;
    expect(await stop(done)).toMatchObject({ status: 400, json: { error: 'Task is not in progress' } });
    const stopped = await stop(pending);
    const at = new Date(START_MS + 60).toISOString();
    expect(stopped).toMatchObject({
      status: 200,
      json: { message: 'Task stopped successfully', task: { id: pending, userId: expect.any(String), status: 'stopped', error: 'Task was stopped by user', updatedAt: at, completedAt: at } },
    });
    expect(await stop(pending)).toMatchObject({ status: 400, json: { error: 'Task is not in progress' } });
    clock.nowMs = START_MS + 950;
    expect(sim.getCloudTask(saving)?.status).toBe('saving');
    expect((await stop(saving)).status).toBe(200);
    clock.nowMs += 10_000;
    expect((await cloud('GET', `/api/tasks/${pending}/status`)).json).toMatchObject({ status: 'stopped', isDone: true, completedAt: at });
    expect(sim.getCloudTask(saving)).toMatchObject({ status: 'stopped', stoppedAtMs: START_MS + 950 });
  });

  it('refuses a PATCH that is not {action: "stop"}, answering 400', async () => {
    const { sim, cloud, clock } = await start();
    const id = sim.createCloudTask({ durationMs: 10_000 }).task.id;
    clock.nowMs += 100;
    for (const body of ['nope', '{}', { action: 'cancel' }, { title: 'x' }]) {
      expect((await cloud('PATCH', `/api/tasks/${id}`, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(sim.getCloudTask(id)?.status).toBe('processing');
  });

  it('lists the caller’s tasks newest first by offset, grouped by active, completed, failed and stopped', async () => {
    const { sim, cloud, clock } = await start();
    const active = sim.createCloudTask({ durationMs: 10_000 }).task.id;
    clock.nowMs += 1;
    const completed = sim.createCloudTask({ durationMs: 10 }).task.id;
    clock.nowMs += 1;
    const failed = sim.createCloudTask({ durationMs: 10, outcome: 'timeout' }).task.id;
    clock.nowMs += 1;
    const stopped = sim.createCloudTask({ durationMs: 10_000 }).task.id;
    clock.nowMs += 100;
    expect((await cloud('PATCH', `/api/tasks/${stopped}`, { action: 'stop' })).status).toBe(200);
    const ids = async (query: string) => (await cloud('GET', `/api/tasks?${query}`)).json.tasks.map((t: { id: string }) => t.id);
    expect(await ids('')).toEqual([stopped, failed, completed, active]);
    expect((await cloud('GET', '/api/tasks?limit=2&offset=1')).json).toMatchObject({ limit: 2, offset: 1, hasMore: true, tasks: [{ id: failed }, { id: completed }] });
    expect((await cloud('GET', '/api/tasks?limit=2&offset=2')).json).toMatchObject({ hasMore: false });
    expect(await ids('status=active')).toEqual([active]);
    expect(await ids('status=completed')).toEqual([completed]);
    expect(await ids('status=failed')).toEqual([failed]);
    expect(await ids('status=stopped')).toEqual([stopped]);
    for (const query of ['limit=0', 'limit=101', 'offset=-1', 'offset=x', 'status=processing']) {
      expect((await cloud('GET', `/api/tasks?${query}`)).status, query).toBe(400);
    }
  });

  it('continues a task back into processing for another duration, and requires currentPrompt', async () => {
    const { sim, cloud, clock } = await start({ defaultDurationMs: 1000 });
    const id = sim.createCloudTask({ durationMs: 10 }).task.id;
    clock.nowMs += 100;
    expect((await cloud('POST', `/api/tasks/${id}/continue`, { prompt: 'wrong field' })).status).toBe(400);
    expect(await cloud('POST', `/api/tasks/${id}/continue`, { currentPrompt: 'More' })).toMatchObject({
      status: 200,
      json: { success: true, message: 'Task continued successfully' },
    });
    expect((await cloud('GET', `/api/tasks/${id}/status`)).json).toMatchObject({ status: 'processing', inProgress: true, completedAt: null });
    clock.nowMs += 1000;
    expect(sim.getCloudTask(id)).toMatchObject({ status: 'completed', completedAtMs: START_MS + 1100 });
  });
});

describe('authentication and routing', () => {
  it('answers 401 {"error":"Unauthorized"} to a missing or wrong key, and to the other API’s key', async () => {
    const { sim, agent, cloud } = await start();
    expect(await agent('GET', '/api/v1/tasks', undefined, { key: null })).toMatchObject({ status: 401, json: { error: 'Unauthorized' } });
    expect((await agent('GET', '/api/v1/tasks', undefined, { key: 'sk-wrong' })).status).toBe(401);
    expect((await agent('GET', '/api/v1/tasks', undefined, { key: sim.cloudKey })).status).toBe(401);
    expect((await cloud('GET', '/api/tasks', undefined, { key: sim.agentKey })).status).toBe(401);
    expect(sim.ledger.byRoute.size).toBe(0);
  });

  it('answers 403 for another user’s agent run and 404 for another user’s cloud task', async () => {
    const { sim, agent, cloud } = await start({ extraAgentKeys: ['sk-bob'], extraCloudKeys: ['bb_bob'] });
    const run = sim.createAgentRun({ owner: 'sk-bob' });
    const task = sim.createCloudTask({ owner: 'bb_bob' }).task.id;
    expect(await agent('GET', `/api/v1/tasks/${run.runId}/status`)).toMatchObject({ status: 403, json: { error: 'Forbidden' } });
    expect((await agent('PATCH', `/api/v1/tasks/${run.runId}`, { action: 'cancel' })).status).toBe(403);
    expect((await agent('GET', `/api/v1/tasks/${run.runId}/status`, undefined, { key: 'sk-bob' })).status).toBe(200);
    expect(await cloud('GET', `/api/tasks/${task}`)).toMatchObject({ status: 404, json: { error: 'Task not found' } });
    expect((await cloud('PATCH', `/api/tasks/${task}`, { action: 'stop' })).status).toBe(404);
    expect((await cloud('GET', `/api/tasks/${task}`, undefined, { key: 'bb_bob' })).status).toBe(200);
    expect((await agent('GET', '/api/v1/tasks')).json.tasks).toEqual([]);
  });

  it('answers 404 {"error":"Task not found"} to unknown IDs, 404 to unknown paths and 405 to wrong methods', async () => {
    const { agent, cloud } = await start();
    expect(await agent('GET', '/api/v1/tasks/00000000-0000-4000-8000-000000000000/status')).toMatchObject({ status: 404, json: { error: 'Task not found' } });
    expect((await cloud('GET', '/api/tasks/nope/status')).json).toEqual({ error: 'Task not found' });
    for (const path of ['/', '/api', '/api/v2/tasks', '/api/v1/tasks/x/logs', '/api/tasks/x/status/more', '/api/v1/tasks/']) {
      expect((await agent('GET', path)).status, path).toBe(404);
    }
    const wrong = await agent('DELETE', '/api/v1/tasks/x');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, PATCH');
    expect((await cloud('GET', '/api/tasks/x/continue')).status).toBe(405);
  });

  it('decodes path IDs, so an encoded slash is an unknown ID and a malformed escape is a 400', async () => {
    const { agent } = await start();
    expect(await agent('GET', '/api/v1/tasks/a%2Fb/status')).toMatchObject({ status: 404, json: { error: 'Task not found' } });
    expect((await agent('GET', '/api/v1/tasks/%E0%A4%A/status')).status).toBe(400);
  });

  it('answers 413 to a body over maxBodyBytes', async () => {
    const { agent } = await start({ maxBodyBytes: 100 });
    expect((await agent('POST', '/api/v1/tasks', { prompt: 'x'.repeat(200) })).status).toBe(413);
    expect((await agent('POST', '/api/v1/tasks', { prompt: 'x' })).status).toBe(200);
  });

  it('answers a handler failure with a 500 JSON body and keeps serving', async () => {
    const { agent, clock } = await start();
    clock.broken = true;
    expect(await agent('GET', '/api/v1/tasks')).toMatchObject({ status: 500, json: { error: 'Internal server error' } });
    clock.broken = false;
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
  });

  it('lets a prompt hint script the duration and outcome, and refuses a malformed hint', async () => {
    const { sim, agent, cloud, clock } = await start();
    const run = (await agent('POST', '/api/v1/tasks', { prompt: 'go [sim:duration=5000,outcome=failed]' })).json.runId;
    const task = (await cloud('POST', '/api/tasks', { prompt: '[sim:duration=never]' })).json.task.id;
    clock.nowMs += 4999;
    expect(sim.getAgentRun(run)?.status).toBe('running');
    clock.nowMs += 1;
    expect(sim.getAgentRun(run)?.status).toBe('failed');
    expect(sim.getCloudTask(task)).toMatchObject({ status: 'processing', durationMs: Number.POSITIVE_INFINITY });
    expect((await agent('POST', '/api/v1/tasks', { prompt: '[sim:outcome=error]' })).status).toBe(400);
    expect((await cloud('POST', '/api/tasks', { prompt: '[sim:speed=2]' })).status).toBe(400);
  });
});

describe('fault injection', () => {
  it('answers 500 JSON at errorRate 1 and a 502 HTML page at htmlErrorRate 1', async () => {
    const { sim, agent } = await start({ faults: { errorRate: 1 } });
    expect(await agent('GET', '/api/v1/tasks')).toMatchObject({ status: 500, json: { error: 'Internal server error' } });
    sim.setFaults({ errorRate: 0, htmlErrorRate: 1 });
    const html = await agent('GET', '/api/v1/tasks');
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.text).toContain('<title>502 Bad Gateway</title>');
    expect(sim.ledger.faults).toMatchObject({ error: 1, htmlError: 1 });
  });

  it('answers 429 with Retry-After at rate429 1', async () => {
    const { sim, agent } = await start({ faults: { rate429: 1, retryAfterSeconds: 3 } });
    const limited = await agent('GET', '/api/v1/tasks');
    expect(limited).toMatchObject({ status: 429, json: { error: 'Too many requests' } });
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(sim.ledger.faults.rate429).toBe(1);
  });

  it('answers 429 with Retry-After to a request beyond maxConcurrent in flight', async () => {
    const { sim, agent } = await start({ faults: { maxConcurrent: 2, latencyMs: 60_000 } });
    const held = [agent('GET', '/api/v1/tasks'), agent('GET', '/api/v1/tasks')].map((p) => p.catch(() => undefined));
    await until(() => sim.ledger.inFlight === 2);
    const third = await agent('GET', '/api/v1/tasks');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(sim.ledger.faults.maxConcurrent).toBe(1);
    await sim.close();
    await Promise.all(held);
  });

  it('resets the connection without an answer at resetRate 1', async () => {
    const { sim, agent } = await start({ faults: { resetRate: 1 } });
    await expect(agent('GET', '/api/v1/tasks')).rejects.toThrow(TypeError);
    expect(sim.ledger.faults.reset).toBe(1);
    expect(sim.ledger.byStatusCode.size).toBe(0);
  });

  it('never answers at hangRate 1, so the client has to time out', async () => {
    const { sim, agent } = await start({ faults: { hangRate: 1 } });
    await expect(agent('GET', '/api/v1/tasks', undefined, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sim.ledger.faults.hang).toBe(1);
    expect(sim.ledger.byStatusCode.size).toBe(0);
  });

  it('spares unauthenticated and unrouted requests', async () => {
    const { sim, agent } = await start({ faults: { errorRate: 1 } });
    expect((await agent('GET', '/api/v1/tasks', undefined, { key: 'bad' })).status).toBe(401);
    expect((await agent('GET', '/nowhere')).status).toBe(404);
    expect(sim.ledger.faults.error).toBe(0);
  });

  it('answers after latencyMs and counts the requests it held at once in peakConcurrent', async () => {
    const { sim, agent } = await start({ faults: { latencyMs: 20 } });
    expect((await agent('GET', '/api/v1/tasks')).status).toBe(200);
    sim.setFaults({ latencyMs: 60_000 });
    const held = Array.from({ length: 5 }, () => agent('GET', '/api/v1/tasks').catch(() => undefined));
    await until(() => sim.ledger.inFlight === 5);
    expect(sim.ledger.peakConcurrent).toBe(5);
    await sim.close();
    await Promise.all(held);
  });

  it('repeats the same fault decisions and IDs for the same seed', async () => {
    const statuses = async (seed: number) => {
      const { sim, agent } = await start({ seed, faults: { errorRate: 0.3, rate429: 0.2 } });
      const runId = sim.createAgentRun().runId;
      const seen: number[] = [];
      for (let i = 0; i < 30; i++) seen.push((await agent('GET', `/api/v1/tasks/${runId}/status`)).status);
      return { runId, seen };
    };
    const first = await statuses(1234);
    expect(await statuses(1234)).toEqual(first);
    expect(new Set(first.seen)).toEqual(new Set([200, 429, 500]));
  });

  it('merges setFaults into the faults in force, refuses invalid values and clears them all', async () => {
    const { sim } = await start({ faults: { latencyMs: 5 } });
    sim.setFaults({ errorRate: 0.5 });
    expect(sim.faults).toMatchObject({ latencyMs: 5, errorRate: 0.5, retryAfterSeconds: 1, maxConcurrent: Number.POSITIVE_INFINITY });
    expect(() => sim.setFaults({ errorRate: 2 })).toThrow(RangeError);
    expect(() => sim.setFaults({ maxConcurrent: 0 })).toThrow(RangeError);
    expect(sim.faults.errorRate).toBe(0.5);
    sim.clearFaults();
    expect(sim.faults).toMatchObject({ latencyMs: 0, errorRate: 0 });
  });
});

describe('the ledger', () => {
  it('counts requests per route, cancels per run and stops per task, faulted attempts in byRoute only', async () => {
    const { sim, agent, cloud, clock } = await start();
    const a = sim.createAgentRun({ durationMs: 10_000 }).runId;
    const b = sim.createAgentRun({ durationMs: 10_000 }).runId;
    const t = sim.createCloudTask({ durationMs: 10_000 }).task.id;
    clock.nowMs += 100;
    await agent('PATCH', `/api/v1/tasks/${a}`, { action: 'cancel' });
    await agent('PATCH', `/api/v1/tasks/${a}`, { action: 'cancel' });
    await agent('PATCH', `/api/v1/tasks/${b}`, { title: 'rename only' });
    sim.setFaults({ errorRate: 1 });
    await agent('PATCH', `/api/v1/tasks/${b}`, { action: 'cancel' });
    sim.clearFaults();
    await cloud('PATCH', `/api/tasks/${t}`, { action: 'stop' });
    await cloud('GET', `/api/tasks/${t}/status`);
    await agent('GET', '/api/v1/tasks', undefined, { key: null });
    const { ledger } = sim;
    expect(ledger.requests).toBe(7);
    expect(Object.fromEntries(ledger.byRoute)).toEqual({ 'agent.update': 4, 'cloud.stop': 1, 'cloud.status': 1 });
    expect(Object.fromEntries(ledger.cancels)).toEqual({ [a]: 2 });
    expect(Object.fromEntries(ledger.stops)).toEqual({ [t]: 1 });
    expect(Object.fromEntries(ledger.byStatusCode)).toEqual({ 200: 4, 400: 1, 500: 1, 401: 1 });
    expect(ledger.faults.error).toBe(1);
    ledger.reset();
    expect([ledger.requests, ledger.byRoute.size, ledger.cancels.size, ledger.stops.size, ledger.faults.error]).toEqual([0, 0, 0, 0, 0]);
  });
});

describe('the simulator object', () => {
  it('listens on 127.0.0.1 with generated keys and reports its seed', async () => {
    const sim = await createSimulator();
    opened.push(sim);
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    expect(sim.agentKey).toMatch(/^sk-sim-[0-9a-f]+$/);
    expect(sim.cloudKey).toMatch(/^bb_sim_[0-9a-f]+$/);
    expect(Number.isInteger(sim.seed)).toBe(true);
  });

  it('accepts the keys it is given and refuses invalid options', async () => {
    const { sim, agent } = await start({ agentKey: 'sk-mine', cloudKey: 'bb_mine' });
    expect([sim.agentKey, sim.cloudKey]).toEqual(['sk-mine', 'bb_mine']);
    expect((await agent('GET', '/api/v1/tasks', undefined, { key: 'sk-mine' })).status).toBe(200);
    await expect(createSimulator({ port: -1 })).rejects.toThrow(RangeError);
    await expect(createSimulator({ faults: { errorRate: -0.1 } })).rejects.toThrow(RangeError);
    await expect(createSimulator({ agentKey: '' })).rejects.toThrow(TypeError);
    expect(() => sim.createAgentRun({ durationMs: -1 })).toThrow(RangeError);
  });

  it('creates runs and tasks without HTTP and shows their server-side state', async () => {
    const { sim, clock } = await start({ queuedMs: 50 });
    const run = sim.createAgentRun({ durationMs: 1000, prompt: 'direct' });
    const { task } = sim.createCloudTask({ durationMs: 1000 });
    expect(run.runId).toMatch(UUID);
    expect(task).toMatchObject({ status: 'pending', id: expect.stringMatching(NANOID) });
    expect(sim.getAgentRun(run.runId)).toMatchObject({ status: 'queued', prompt: 'direct', durationMs: 1000, outcome: 'completed', createdAtMs: START_MS });
    clock.nowMs += 1000;
    expect(sim.getAgentRun(run.runId)).toMatchObject({ status: 'completed', startedAtMs: START_MS + 50, completedAtMs: START_MS + 1000 });
    expect(sim.getCloudTask(task.id)).toMatchObject({ status: 'completed', completedAtMs: START_MS + 1000 });
    expect(sim.getAgentRun('nope')).toBeUndefined();
    expect(sim.ledger.requests).toBe(0);
  });

  it('holds 10,000 runs and still pages the list from the newest', async () => {
    const { sim, agent } = await start();
    let last = '';
    for (let i = 0; i < 10_000; i++) last = sim.createAgentRun().runId;
    const page = (await agent('GET', '/api/v1/tasks?limit=100')).json;
    expect(page.tasks).toHaveLength(100);
    expect(page.tasks[0].runId).toBe(last);
    expect(page.hasMore).toBe(true);
  });

  it('leaves no server, socket or timer behind after close, even with hung and delayed requests', async () => {
    const watched = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap' || r === 'Timeout').length;
    const before = watched();
    const { sim, agent } = await start({ faults: { hangRate: 1 } });
    const hung = agent('GET', '/api/v1/tasks').catch((error: unknown) => error);
    await until(() => sim.ledger.faults.hang === 1);
    sim.setFaults({ hangRate: 0, latencyMs: 60_000 });
    const delayed = agent('GET', '/api/v1/tasks').catch((error: unknown) => error);
    await until(() => sim.ledger.inFlight === 2);
    await sim.close();
    await sim.close();
    expect(await hung).toBeInstanceOf(TypeError);
    expect(await delayed).toBeInstanceOf(TypeError);
    for (let i = 0; i < 100 && watched() > before; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(watched()).toBeLessThanOrEqual(before);
    expect(sim.ledger.inFlight).toBe(0);
  });
});
