import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentClient,
  ApiError,
  AuthenticationError,
  BadRequestError,
  BlackboxError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ValidationError,
  type AgentUpdateBody,
} from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import {
  aPercentage,
  captureError,
  closeTestServers,
  drive,
  installClock,
  rejectionOf,
  sendJson,
  startTestServer,
  waitFor,
  type TestServer,
} from './helpers/clients-http.js';

/** The simulator's clock: statuses are computed from it, so tests move time by assigning `now`. */
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const OTHER_KEY = 'sk-other-user-0123456789';
/** Retries that cost next to nothing in real time. */
const FAST = { initialMs: 1, maxMs: 2, factor: 2, jitter: 0 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let sim: Simulator;
let now: number;
let agent: AgentClient;

beforeEach(async () => {
  now = T0;
  sim = await createSimulator({ seed: 11, now: () => now, extraAgentKeys: [OTHER_KEY], queuedMs: 50, defaultDurationMs: 10_000 });
  agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retryBackoff: FAST });
});

afterEach(async () => {
  await sim.close();
  await closeTestServers();
});

/** Asserts the common fields of an API error. */
function expectApiError(error: unknown, type: new (...args: never[]) => ApiError, status: number, method: string, path: string): asserts error is ApiError {
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(ApiError);
  expect(error).toBeInstanceOf(BlackboxError);
  expect(error).toBeInstanceOf(Error);
  const apiError = error as ApiError;
  expect(apiError.status).toBe(status);
  expect(apiError.method).toBe(method);
  expect(apiError.path).toBe(path);
  expect(apiError.name).toBe(type.name);
  expect(apiError.message).toContain(String(status));
}

describe('AgentClient.createTask', () => {
  it('starts a run from a prompt and answers taskId, runId, assistantMessageId, chatId and agentCount', async () => {
    const created = await agent.createTask({ prompt: 'Add a CHANGELOG', agent: 'claude', model: 'sim-model-1' });
    expect(created).toEqual({
      taskId: expect.stringMatching(UUID),
      runId: expect.stringMatching(UUID),
      assistantMessageId: expect.stringMatching(UUID),
      chatId: expect.stringMatching(UUID),
      agentCount: 1,
    });
    expect(sim.ledger.byRoute.get('agent.create')).toBe(1);
    expect(sim.getAgentRun(created.runId)).toMatchObject({ prompt: 'Add a CHANGELOG', status: 'queued' });
    const detail = await agent.getTask(created.runId);
    expect(detail).toMatchObject({ model: 'sim-model-1', agent: 'claude', taskId: created.taskId, chatId: created.chatId });
  });

  it('accepts message as an alias of prompt', async () => {
    const created = await agent.createTask({ message: 'Fix the flaky test' });
    expect(sim.getAgentRun(created.runId)?.prompt).toBe('Fix the flaky test');
  });

  it('passes type, repoUrl and selectedBranch through to the API', async () => {
    const created = await agent.createTask({ prompt: 'Bump deps', type: 'code', repoUrl: 'https://github.com/acme/app', selectedBranch: 'main' });
    expect(created.runId).toMatch(UUID);
  });

  it('refuses a body without prompt or message, or with a blank one, without sending a request', async () => {
    for (const body of [{}, { prompt: '' }, { prompt: '   ' }, { message: '\n' }, { model: 'm' }]) {
      expect(await captureError(() => agent.createTask(body))).toBeInstanceOf(ValidationError);
    }
    expect(await captureError(() => agent.createTask(null as never))).toBeInstanceOf(ValidationError);
    expect(await captureError(() => agent.createTask('prompt' as never))).toBeInstanceOf(ValidationError);
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('AgentClient.listTasks', () => {
  it('lists the runs newest first, paged by page and limit, with hasMore', async () => {
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      runIds.push((await agent.createTask({ prompt: `task ${i}` })).runId);
      now += 1_000;
    }
    const first = await agent.listTasks({ page: 1, limit: 2 });
    expect(first).toMatchObject({ page: 1, limit: 2, hasMore: true });
    expect(first.tasks.map((t) => t.runId)).toEqual([runIds[2], runIds[1]]);
    const second = await agent.listTasks({ page: 2, limit: 2 });
    expect(second).toMatchObject({ page: 2, limit: 2, hasMore: false });
    expect(second.tasks.map((t) => t.runId)).toEqual([runIds[0]]);
    expect(second.tasks[0]).toEqual({
      taskId: expect.stringMatching(UUID),
      runId: runIds[0],
      chatId: expect.stringMatching(UUID),
      status: 'running',
      model: null,
      createdAt: expect.stringMatching(ISO),
      startedAt: expect.stringMatching(ISO),
      completedAt: null,
      assistantMessageId: expect.stringMatching(UUID),
    });
  });

  it('uses the defaults of the API when no query is given', async () => {
    await agent.createTask({ prompt: 'only one' });
    const list = await agent.listTasks();
    expect(list).toMatchObject({ page: 1, limit: 20, hasMore: false });
    expect(list.tasks).toHaveLength(1);
  });

  it('filters by status, in the list vocabulary and in the status endpoint vocabulary', async () => {
    const cancelled = await agent.createTask({ prompt: 'to cancel' });
    const running = await agent.createTask({ prompt: 'keeps running' });
    now += 1_000;
    await agent.cancel(cancelled.runId);
    expect((await agent.listTasks({ status: 'cancelled' })).tasks.map((t) => t.runId)).toEqual([cancelled.runId]);
    expect((await agent.listTasks({ status: 'running' })).tasks.map((t) => t.runId)).toEqual([running.runId]);
    expect((await agent.listTasks({ status: 'in_progress' })).tasks.map((t) => t.runId)).toEqual([running.runId]);
    expect((await agent.listTasks({ status: 'completed' })).tasks).toEqual([]);
  });

  it('refuses limit 0 or 101, page 0 and non-integers without sending a request', async () => {
    for (const query of [{ limit: 0 }, { limit: 101 }, { limit: 1.5 }, { page: 0 }, { page: -1 }, { page: Number.NaN }, { limit: '10' as never }]) {
      const error = await captureError(() => agent.listTasks(query));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/limit|page/);
    }
    expect(sim.ledger.requests).toBe(0);
  });

  it('accepts limit 1 and limit 100', async () => {
    await agent.createTask({ prompt: 'x' });
    expect((await agent.listTasks({ limit: 1 })).limit).toBe(1);
    expect((await agent.listTasks({ limit: 100 })).limit).toBe(100);
  });
});

describe('AgentClient.getTask', () => {
  it('answers the run with its status, times, error and messages', async () => {
    const { runId, taskId, chatId } = await agent.createTask({ prompt: 'Explain the code' });
    const queued = await agent.getTask(runId);
    expect(queued).toMatchObject({ taskId, runId, chatId, status: 'queued', createdAt: new Date(T0).toISOString(), startedAt: null, completedAt: null, error: null });
    expect(queued.messages).toEqual([
      expect.objectContaining({ role: 'user', content: 'Explain the code' }),
      expect.objectContaining({ role: 'assistant' }),
    ]);
    now += 20_000;
    const done = await agent.getTask(runId);
    expect(done).toMatchObject({ status: 'completed', startedAt: new Date(T0 + 50).toISOString(), completedAt: new Date(T0 + 10_000).toISOString(), error: null });
  });

  it('answers a failed run with its error', async () => {
    const { runId } = sim.createAgentRun({ durationMs: 1_000, outcome: 'failed' });
    now += 2_000;
    const detail = await agent.getTask(runId);
    expect(detail.status).toBe('failed');
    expect(detail.error).toEqual(expect.any(String));
  });
});

describe('AgentClient.getStatus', () => {
  it('speaks pending and in_progress while the run is queued and running, then the terminal word', async () => {
    const { runId } = sim.createAgentRun({ durationMs: 10_000 });
    expect(await agent.getStatus(runId)).toEqual({ runId, status: 'pending', progress: aPercentage, error: null, startedAt: null, completedAt: null });
    now += 5_000;
    expect(await agent.getStatus(runId)).toEqual({
      runId,
      status: 'in_progress',
      progress: aPercentage,
      error: null,
      startedAt: new Date(T0 + 50).toISOString(),
      completedAt: null,
    });
    now += 10_000;
    expect(await agent.getStatus(runId)).toMatchObject({ runId, status: 'completed', progress: aPercentage, completedAt: new Date(T0 + 10_000).toISOString() });
    expect(sim.ledger.byRoute.get('agent.status')).toBe(3);
  });

  it('reports interrupted, a terminal state, with its error', async () => {
    const { runId } = sim.createAgentRun({ durationMs: 100, outcome: 'interrupted' });
    now += 1_000;
    const status = await agent.getStatus(runId);
    expect(status.status).toBe('interrupted');
    expect(status.error).toEqual(expect.any(String));
  });
});

describe('AgentClient.cancel', () => {
  it('cancels a running run and answers success, status cancelled and the documented message', async () => {
    const { runId } = await agent.createTask({ prompt: 'long job' });
    now += 1_000;
    expect(await agent.cancel(runId)).toEqual({ success: true, status: 'cancelled', message: `Task ${runId} cancelled successfully` });
    expect(sim.ledger.cancels.get(runId)).toBe(1);
    expect(sim.getAgentRun(runId)?.cancelledAtMs).toBe(T0 + 1_000);
    expect((await agent.getStatus(runId)).status).toBe('cancelled');
    now += 60_000;
    expect((await agent.getStatus(runId)).status).toBe('cancelled');
  });

  it('cancels a run that is still queued', async () => {
    const { runId } = sim.createAgentRun();
    expect(await agent.cancel(runId)).toMatchObject({ success: true, status: 'cancelled' });
  });

  it('answers a BadRequestError for a run that already ended', async () => {
    const { runId } = sim.createAgentRun({ durationMs: 100 });
    now += 1_000;
    const error = await rejectionOf(agent.cancel(runId));
    expectApiError(error, BadRequestError, 400, 'PATCH', `/api/v1/tasks/${runId}`);
    expect(error.body).toEqual({ error: 'Task is already completed' });
    expect(sim.ledger.cancels.get(runId)).toBe(1);
  });
});

describe('AgentClient.rename', () => {
  it('sets a title of 200 characters and answers success with the current status', async () => {
    const { runId } = sim.createAgentRun();
    now += 1_000;
    const title = 't'.repeat(200);
    expect(await agent.rename(runId, title)).toEqual({ success: true, status: 'running', message: expect.any(String) });
    expect(sim.getAgentRun(runId)?.title).toBe(title);
    expect(sim.getAgentRun(runId)?.cancelledAtMs).toBeNull();
  });

  it('refuses a title of 0 or 201 characters, or not a string, without sending a request', async () => {
    const { runId } = sim.createAgentRun();
    for (const title of ['', 'x'.repeat(201), 42 as never]) {
      const error = await captureError(() => agent.rename(runId, title));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/title/);
    }
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('AgentClient.update', () => {
  it('cancels when both action and title are given: the cancel takes precedence', async () => {
    const { runId } = sim.createAgentRun();
    now += 1_000;
    expect(await agent.update(runId, { action: 'cancel', title: 'renamed' })).toEqual({
      success: true,
      status: 'cancelled',
      message: `Task ${runId} cancelled successfully`,
    });
    expect(sim.getAgentRun(runId)).toMatchObject({ status: 'cancelled', title: null });
    expect(sim.ledger.cancels.get(runId)).toBe(1);
  });

  it('renames with a title alone', async () => {
    const { runId } = sim.createAgentRun();
    expect(await agent.update(runId, { title: 'New name' })).toMatchObject({ success: true, status: 'queued' });
    expect(sim.getAgentRun(runId)?.title).toBe('New name');
  });

  it('refuses neither action nor title, an action other than cancel, and a bad title, without sending a request', async () => {
    const { runId } = sim.createAgentRun();
    const bodies: unknown[] = [{}, { action: 'stop' }, { action: 'CANCEL' }, { action: '' }, { action: 'cancel', title: '' }, { title: 'y'.repeat(201) }, null, []];
    for (const body of bodies) {
      expect(await captureError(() => agent.update(runId, body as AgentUpdateBody)), JSON.stringify(body)).toBeInstanceOf(ValidationError);
    }
    expect(await captureError(() => agent.update(runId, { action: 'stop' as never }))).toHaveProperty('message', expect.stringMatching(/cancel/));
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('AgentClient.continueTask', () => {
  it('continues a run as a NEW run that names the previous one', async () => {
    const first = await agent.createTask({ prompt: 'Write the tests', agent: 'codex' });
    now += 20_000;
    const next = await agent.continueTask(first.runId, { prompt: 'Now the docs', model: 'sim-model-2' });
    expect(next).toEqual({
      runId: expect.stringMatching(UUID),
      assistantMessageId: expect.stringMatching(UUID),
      chatId: first.chatId,
      previousRunId: first.runId,
    });
    expect(next.runId).not.toBe(first.runId);
    expect(sim.getAgentRun(next.runId)).toMatchObject({ previousRunId: first.runId, prompt: 'Now the docs', taskId: first.taskId, status: 'queued' });
    expect(sim.ledger.byRoute.get('agent.continue')).toBe(1);
  });

  it('refuses a missing or blank prompt without sending a request', async () => {
    const { runId } = sim.createAgentRun();
    for (const body of [{}, { prompt: '' }, { prompt: '  ' }, { message: 'alias is create-only' }]) {
      expect(await captureError(() => agent.continueTask(runId, body as never))).toBeInstanceOf(ValidationError);
    }
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('AgentClient errors', () => {
  it('maps 400 to BadRequestError with the body, method and path (query included)', async () => {
    const error = await rejectionOf(agent.listTasks({ status: 'bogus', limit: 5 }));
    expectApiError(error, BadRequestError, 400, 'GET', '/api/v1/tasks?limit=5&status=bogus');
    expect(error.body).toEqual({ error: 'Invalid status filter "bogus"' });
    expect(error.message).toContain('Invalid status filter');
    expect(sim.ledger.byRoute.get('agent.list')).toBe(1);
  });

  it('maps a wrong key to AuthenticationError with the body {"error":"Unauthorized"}, and does not retry it', async () => {
    const wrong = new AgentClient({ apiKey: 'sk-wrong-key-123', baseUrl: sim.url, retryBackoff: FAST });
    const { runId } = sim.createAgentRun();
    const error = await rejectionOf(wrong.getStatus(runId));
    expectApiError(error, AuthenticationError, 401, 'GET', `/api/v1/tasks/${runId}/status`);
    expect(error.body).toEqual({ error: 'Unauthorized' });
    expect(error.message).toContain('Unauthorized');
    expect(sim.ledger.requests).toBe(1);
  });

  it('maps the Cloud API key used on the Agent API to AuthenticationError', async () => {
    const crossed = new AgentClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retryBackoff: FAST });
    expect(await rejectionOf(crossed.listTasks())).toBeInstanceOf(AuthenticationError);
  });

  it("maps another user's run to PermissionDeniedError, for reads and for a cancel, which changes nothing", async () => {
    const { runId } = sim.createAgentRun({ owner: OTHER_KEY });
    const read = await rejectionOf(agent.getTask(runId));
    expectApiError(read, PermissionDeniedError, 403, 'GET', `/api/v1/tasks/${runId}`);
    expect(read.body).toEqual({ error: 'Forbidden' });
    const cancel = await rejectionOf(agent.cancel(runId));
    expectApiError(cancel, PermissionDeniedError, 403, 'PATCH', `/api/v1/tasks/${runId}`);
    expect(sim.getAgentRun(runId)?.cancelledAtMs).toBeNull();
    expect(sim.ledger.byRoute.get('agent.update')).toBe(1);
    const owner = new AgentClient({ apiKey: OTHER_KEY, baseUrl: sim.url });
    expect((await owner.getTask(runId)).runId).toBe(runId);
  });

  it('maps an unknown run to NotFoundError on every call that takes a runId', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const calls: [() => Promise<unknown>, string, string][] = [
      [() => agent.getTask(id), 'GET', `/api/v1/tasks/${id}`],
      [() => agent.getStatus(id), 'GET', `/api/v1/tasks/${id}/status`],
      [() => agent.cancel(id), 'PATCH', `/api/v1/tasks/${id}`],
      [() => agent.rename(id, 'x'), 'PATCH', `/api/v1/tasks/${id}`],
      [() => agent.continueTask(id, { prompt: 'more' }), 'POST', `/api/v1/tasks/${id}/continue`],
    ];
    for (const [call, method, path] of calls) {
      const error = await rejectionOf(call());
      expectApiError(error, NotFoundError, 404, method, path);
      expect(error.body).toEqual({ error: 'Task not found' });
    }
    expect(sim.ledger.requests).toBe(calls.length);
  });

  it('maps 429 to RateLimitError with retryAfterMs once the retries are exhausted', async () => {
    const clock = installClock();
    try {
      sim.setFaults({ rate429: 1, retryAfterSeconds: 2 });
      const client = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retries: 1, retryBackoff: FAST });
      const start = clock.now;
      const error = await rejectionOf(drive(clock, client.listTasks()));
      expectApiError(error, RateLimitError, 429, 'GET', '/api/v1/tasks');
      expect((error as RateLimitError).retryAfterMs).toBe(2_000);
      expect(error.body).toEqual({ error: 'Too many requests' });
      expect(sim.ledger.byRoute.get('agent.list')).toBe(2);
      expect(clock.now - start).toBeGreaterThanOrEqual(2_000);
    } finally {
      clock.uninstall();
    }
  });

  it('maps 500 to InternalServerError after the retries, each attempt reaching the server', async () => {
    sim.setFaults({ errorRate: 1 });
    const { runId } = sim.createAgentRun();
    const error = await rejectionOf(agent.getStatus(runId));
    expectApiError(error, InternalServerError, 500, 'GET', `/api/v1/tasks/${runId}/status`);
    expect(error.body).toEqual({ error: 'Internal server error' });
    expect(sim.ledger.byRoute.get('agent.status')).toBe(3);
  });

  it('maps an HTML 502 page to InternalServerError with a readable message and the page as body', async () => {
    sim.setFaults({ htmlErrorRate: 1 });
    const client = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retries: 0 });
    const error = await rejectionOf(client.createTask({ prompt: 'x' }));
    expectApiError(error, InternalServerError, 502, 'POST', '/api/v1/tasks');
    expect(error.message).toContain('502 Bad Gateway');
    expect(error.message).not.toContain('<');
    expect(error.body).toEqual(expect.stringContaining('<title>502 Bad Gateway</title>'));
    expect(sim.ledger.byRoute.get('agent.create')).toBe(1);
  });

  it('does not retry 400, 401, 403 or 404', async () => {
    const mine = sim.createAgentRun();
    const theirs = sim.createAgentRun({ owner: OTHER_KEY });
    const wrong = new AgentClient({ apiKey: 'sk-wrong', baseUrl: sim.url, retries: 5, retryBackoff: FAST });
    const client = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retries: 5, retryBackoff: FAST });
    await expect(client.listTasks({ status: 'nope' })).rejects.toBeInstanceOf(BadRequestError);
    await expect(wrong.getStatus(mine.runId)).rejects.toBeInstanceOf(AuthenticationError);
    await expect(client.getStatus(theirs.runId)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(client.getStatus('no-such-run')).rejects.toBeInstanceOf(NotFoundError);
    expect(sim.ledger.requests).toBe(4);
    expect(sim.ledger.byRoute.get('agent.list')).toBe(1);
    expect(sim.ledger.byRoute.get('agent.status')).toBe(2);
  });
});

describe('AgentClient input validation', () => {
  const badIds: [string, unknown][] = [
    ['an empty ID', ''],
    ['a blank ID', '   '],
    ['a tab', '\t'],
    ['leading whitespace', ' abc'],
    ['trailing whitespace', 'abc\n'],
    ['"."', '.'],
    ['".."', '..'],
    ['a lone high surrogate', 'run-\uD800'],
    ['a lone low surrogate', '\uDC00-run'],
    ['an ID of 257 characters', 'a'.repeat(257)],
    ['a number', 42],
    ['undefined', undefined],
  ];

  for (const [what, id] of badIds) {
    it(`refuses ${what} as runId on every method without sending a request`, async () => {
      const runId = id as string;
      const calls = [
        () => agent.getTask(runId),
        () => agent.getStatus(runId),
        () => agent.cancel(runId),
        () => agent.rename(runId, 'title'),
        () => agent.update(runId, { action: 'cancel' }),
        () => agent.continueTask(runId, { prompt: 'more' }),
      ];
      for (const call of calls) {
        const error = await captureError(call);
        expect(error).toBeInstanceOf(ValidationError);
        expect(error).toBeInstanceOf(BlackboxError);
        expect((error as Error).message).toContain('runId');
      }
      expect(sim.ledger.requests).toBe(0);
    });
  }

  it('accepts an ID of exactly 256 characters (the server then answers 404)', async () => {
    await expect(agent.getTask('a'.repeat(256))).rejects.toBeInstanceOf(NotFoundError);
    expect(sim.ledger.byRoute.get('agent.get')).toBe(1);
  });

  it('rejects the returned promise, never throwing synchronously, when the input is invalid', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      ['getTask', () => agent.getTask('')],
      ['getStatus', () => agent.getStatus('..')],
      ['cancel', () => agent.cancel(' x')],
      ['rename', () => agent.rename('run', '')],
      ['update', () => agent.update('run', {})],
      ['continueTask', () => agent.continueTask('run', { prompt: '' })],
      ['createTask', () => agent.createTask({})],
      ['listTasks', () => agent.listTasks({ limit: 0 })],
    ];
    // A caller doing Promise.allSettled(ids.map((id) => agent.cancel(id))) must get one rejection, not a throw.
    const threwSynchronously: string[] = [];
    const returned: Promise<unknown>[] = [];
    for (const [name, call] of calls) {
      try {
        returned.push(call());
      } catch {
        threwSynchronously.push(name);
      }
    }
    expect(threwSynchronously).toEqual([]);
    for (const promise of returned) await expect(promise).rejects.toBeInstanceOf(ValidationError);
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('AgentClient ID encoding', () => {
  const ids = ['../x', 'a/b', 'a?b#c', '%2F', '%2e%2e', 'тест-🚀', 'a b', 'x\\y', '../../../etc/passwd'];

  for (const id of ids) {
    it(`sends ${JSON.stringify(id)} as one encoded path segment on the route of the call`, async () => {
      const get = await rejectionOf(agent.getTask(id));
      expect(get).toBeInstanceOf(NotFoundError);
      expect((get as NotFoundError).path).toBe(`/api/v1/tasks/${encodeURIComponent(id)}`);
      await expect(agent.getStatus(id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(agent.cancel(id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(agent.continueTask(id, { prompt: 'p' })).rejects.toBeInstanceOf(NotFoundError);
      expect(Object.fromEntries(sim.ledger.byRoute)).toEqual({ 'agent.get': 1, 'agent.status': 1, 'agent.update': 1, 'agent.continue': 1 });
      // The cancel reached the handler with the ID decoded back to exactly what the caller gave.
      expect([...sim.ledger.cancels.keys()]).toEqual([id]);
    });
  }

  it('puts the encoded ID on the wire exactly, for every call that takes one', async () => {
    const server = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    const client = new AgentClient({ apiKey: 'sk-test', baseUrl: server.url });
    const id = 'a/b?c#d%2F..тест-🚀';
    const encoded = encodeURIComponent(id);
    await client.getTask(id);
    await client.getStatus(id);
    await client.cancel(id);
    await client.continueTask(id, { prompt: 'p' });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /api/v1/tasks/${encoded}`,
      `GET /api/v1/tasks/${encoded}/status`,
      `PATCH /api/v1/tasks/${encoded}`,
      `POST /api/v1/tasks/${encoded}/continue`,
    ]);
  });
});

describe('AgentClient wire format', () => {
  let server: TestServer;
  let client: AgentClient;
  const KEY = 'sk-wire-test-key';

  beforeEach(async () => {
    server = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    client = new AgentClient({ apiKey: KEY, baseUrl: server.url });
  });

  it('sends each call with the method, path, query and JSON body of the API reference', async () => {
    await client.createTask({ prompt: 'Add tests', agent: 'claude', model: 'm', repoUrl: 'https://github.com/a/b', selectedBranch: 'dev' });
    await client.listTasks({ page: 2, limit: 5, status: 'running' });
    await client.listTasks();
    await client.getTask('run-1');
    await client.getStatus('run-1');
    await client.cancel('run-1');
    await client.rename('run-1', 'Nice title');
    await client.update('run-1', { action: 'cancel', title: 'both' });
    await client.continueTask('run-1', { prompt: 'Go on', model: 'm2', agent: 'codex' });
    const wire = server.requests.map((r) => ({ line: `${r.method} ${r.url}`, body: r.body === '' ? undefined : (JSON.parse(r.body) as unknown) }));
    expect(wire).toEqual([
      { line: 'POST /api/v1/tasks', body: { prompt: 'Add tests', agent: 'claude', model: 'm', repoUrl: 'https://github.com/a/b', selectedBranch: 'dev' } },
      { line: 'GET /api/v1/tasks?page=2&limit=5&status=running', body: undefined },
      { line: 'GET /api/v1/tasks', body: undefined },
      { line: 'GET /api/v1/tasks/run-1', body: undefined },
      { line: 'GET /api/v1/tasks/run-1/status', body: undefined },
      { line: 'PATCH /api/v1/tasks/run-1', body: { action: 'cancel' } },
      { line: 'PATCH /api/v1/tasks/run-1', body: { title: 'Nice title' } },
      { line: 'PATCH /api/v1/tasks/run-1', body: { action: 'cancel', title: 'both' } },
      { line: 'POST /api/v1/tasks/run-1/continue', body: { prompt: 'Go on', model: 'm2', agent: 'codex' } },
    ]);
  });

  it('sends the key as a Bearer token and asks for JSON, with a JSON content type on bodies', async () => {
    await client.createTask({ message: 'hi' });
    await client.getStatus('r');
    const [post, get] = server.requests;
    expect(post?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(post?.headers['content-type']).toMatch(/^application\/json/);
    expect(post?.body).toBe('{"message":"hi"}');
    expect(get?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(get?.headers.accept).toContain('application/json');
  });

  it('resolves with the parsed JSON body as is', async () => {
    expect(await client.getStatus('r')).toEqual({ ok: true });
  });

  it("lets one call override the client's retries", async () => {
    const slow = await startTestServer((_req, res) => setTimeout(() => sendJson(res, 500, { error: 'boom' }), 0));
    const c = new AgentClient({ apiKey: KEY, baseUrl: slow.url, retries: 3, retryBackoff: FAST });
    await expect(c.getStatus('r', { retries: 0 })).rejects.toBeInstanceOf(InternalServerError);
    expect(slow.requests).toHaveLength(1);
    await expect(c.getStatus('r', { retries: 1 })).rejects.toBeInstanceOf(InternalServerError);
    expect(slow.requests).toHaveLength(3);
  });
});

describe('AgentClient under concurrent use', () => {
  it('serves many calls at once from one client, each getting its own answer', async () => {
    const runs = Array.from({ length: 20 }, () => sim.createAgentRun());
    const statuses = await Promise.all(runs.map((r) => agent.getStatus(r.runId)));
    expect(statuses.map((s) => s.runId)).toEqual(runs.map((r) => r.runId));
    await waitFor(() => sim.ledger.inFlight === 0, 'all requests closed');
    expect(sim.ledger.byRoute.get('agent.status')).toBe(20);
  });
});
