import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  BlackboxError,
  CloudClient,
  InternalServerError,
  NotFoundError,
  RateLimitError,
  ValidationError,
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

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const OTHER_KEY = 'bb_other_user_0123456789';
const FAST = { initialMs: 1, maxMs: 2, factor: 2, jitter: 0 };
const NANOID = /^[A-Za-z0-9_-]{21}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let sim: Simulator;
let now: number;
let cloud: CloudClient;

beforeEach(async () => {
  now = T0;
  sim = await createSimulator({ seed: 5, now: () => now, extraCloudKeys: [OTHER_KEY], queuedMs: 50, savingMs: 100, defaultDurationMs: 10_000 });
  cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retryBackoff: FAST });
});

afterEach(async () => {
  await sim.close();
  await closeTestServers();
});

function expectApiError(error: unknown, type: new (...args: never[]) => ApiError, status: number, method: string, path: string): asserts error is ApiError {
  expect(error).toBeInstanceOf(type);
  expect(error).toBeInstanceOf(ApiError);
  expect(error).toBeInstanceOf(BlackboxError);
  const apiError = error as ApiError;
  expect(apiError.name).toBe(type.name);
  expect(apiError.status).toBe(status);
  expect(apiError.method).toBe(method);
  expect(apiError.path).toBe(path);
  expect(apiError.message).toContain(String(status));
}

describe('CloudClient.createTask', () => {
  it('starts a task that is pending, answering {task: {id, status: "pending", …}}', async () => {
    const created = await cloud.createTask({ prompt: 'Fix the flaky test', repoUrl: 'https://github.com/acme/app', selectedBranch: 'main', selectedAgent: 'claude', selectedModel: 'm1' });
    expect(created.task).toMatchObject({
      id: expect.stringMatching(NANOID),
      status: 'pending',
      prompt: 'Fix the flaky test',
      repoUrl: 'https://github.com/acme/app',
      selectedBranch: 'main',
      selectedAgent: 'claude',
      selectedModel: 'm1',
      createdAt: new Date(T0).toISOString(),
    });
    expect(sim.ledger.byRoute.get('cloud.create')).toBe(1);
    expect(sim.getCloudTask(created.task.id)).toMatchObject({ status: 'pending', prompt: 'Fix the flaky test' });
  });

  it('refuses a missing or blank prompt without sending a request', async () => {
    for (const body of [{}, { prompt: '' }, { prompt: ' \n ' }, { message: 'agent alias only' }]) {
      expect(await captureError(() => cloud.createTask(body as never))).toBeInstanceOf(ValidationError);
    }
    expect(await captureError(() => cloud.createTask(undefined as never))).toBeInstanceOf(ValidationError);
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('CloudClient.listTasks', () => {
  it('lists the tasks newest first, paged by limit and offset, with hasMore', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await cloud.createTask({ prompt: `task ${i}` })).task.id);
      now += 1_000;
    }
    const first = await cloud.listTasks({ limit: 2 });
    expect(first).toMatchObject({ offset: 0, limit: 2, hasMore: true });
    expect(first.tasks.map((t) => t.id)).toEqual([ids[2], ids[1]]);
    const second = await cloud.listTasks({ limit: 2, offset: 2 });
    expect(second).toMatchObject({ offset: 2, limit: 2, hasMore: false });
    expect(second.tasks.map((t) => t.id)).toEqual([ids[0]]);
    expect(second.tasks[0]).toMatchObject({ id: ids[0], status: 'processing', createdAt: expect.stringMatching(ISO) });
  });

  it('filters by the status groups active, completed, failed and stopped', async () => {
    const stopped = sim.createCloudTask();
    const failed = sim.createCloudTask({ durationMs: 500, outcome: 'error' });
    const completed = sim.createCloudTask({ durationMs: 500 });
    const active = sim.createCloudTask();
    now += 1_000;
    await cloud.stop(stopped.task.id);
    const idsOf = async (status: string) => (await cloud.listTasks({ status })).tasks.map((t) => t.id);
    expect(await idsOf('active')).toEqual([active.task.id]);
    expect(await idsOf('completed')).toEqual([completed.task.id]);
    expect(await idsOf('failed')).toEqual([failed.task.id]);
    expect(await idsOf('stopped')).toEqual([stopped.task.id]);
  });

  it('refuses limit 0 or 101, a negative offset and non-integers without sending a request', async () => {
    for (const query of [{ limit: 0 }, { limit: 101 }, { limit: 2.5 }, { offset: -1 }, { offset: 0.5 }, { offset: Number.POSITIVE_INFINITY }]) {
      const error = await captureError(() => cloud.listTasks(query));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/limit|offset/);
    }
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('CloudClient.getTask', () => {
  it('answers {task} with the task as the API sees it now', async () => {
    const { task } = sim.createCloudTask({ prompt: 'Refactor' });
    now += 1_000;
    const got = await cloud.getTask(task.id);
    expect(got.task).toMatchObject({ id: task.id, status: 'processing', prompt: 'Refactor', error: null, completedAt: null, userId: expect.any(String) });
  });
});

describe('CloudClient.getStatus', () => {
  it('reports inProgress while pending, processing and saving, then isDone with a duration like "10s"', async () => {
    const { task } = sim.createCloudTask({ durationMs: 10_000 });
    const pending = await cloud.getStatus(task.id);
    expect(pending).toEqual({
      taskId: task.id,
      status: 'pending',
      progress: aPercentage,
      inProgress: true,
      isDone: false,
      error: null,
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0).toISOString(),
      completedAt: null,
      duration: '0s',
    });
    now += 1_000;
    expect(await cloud.getStatus(task.id)).toMatchObject({ status: 'processing', inProgress: true, isDone: false, duration: '1s', progress: aPercentage });
    now = T0 + 9_950;
    expect(await cloud.getStatus(task.id)).toMatchObject({ status: 'saving', inProgress: true, isDone: false });
    now = T0 + 900_000;
    expect(await cloud.getStatus(task.id)).toEqual({
      taskId: task.id,
      status: 'completed',
      progress: aPercentage,
      inProgress: false,
      isDone: true,
      error: null,
      createdAt: new Date(T0).toISOString(),
      updatedAt: new Date(T0 + 10_000).toISOString(),
      completedAt: new Date(T0 + 10_000).toISOString(),
      duration: '10s',
    });
  });

  it('reports error and timeout outcomes as done, with their error', async () => {
    const failed = sim.createCloudTask({ durationMs: 1_000, outcome: 'error' });
    const timedOut = sim.createCloudTask({ durationMs: 1_000, outcome: 'timeout' });
    now += 2_000;
    for (const [{ task }, status] of [[failed, 'error'], [timedOut, 'timeout']] as const) {
      const got = await cloud.getStatus(task.id);
      expect(got).toMatchObject({ status, isDone: true, inProgress: false, error: expect.any(String), duration: '1s' });
    }
  });
});

describe('CloudClient.stop', () => {
  it('stops a processing task and answers the documented message and stopped task', async () => {
    const { task } = sim.createCloudTask();
    now += 1_000;
    const stopped = await cloud.stop(task.id);
    expect(stopped).toEqual({
      message: 'Task stopped successfully',
      task: {
        id: task.id,
        userId: expect.any(String),
        status: 'stopped',
        error: 'Task was stopped by user',
        updatedAt: new Date(T0 + 1_000).toISOString(),
        completedAt: new Date(T0 + 1_000).toISOString(),
      },
    });
    expect(sim.ledger.stops.get(task.id)).toBe(1);
    now += 60_000;
    expect(await cloud.getStatus(task.id)).toMatchObject({ status: 'stopped', isDone: true, inProgress: false, error: 'Task was stopped by user' });
  });

  it('stops a task that is saving', async () => {
    const { task } = sim.createCloudTask({ durationMs: 10_000 });
    now = T0 + 9_950;
    expect((await cloud.stop(task.id)).task.status).toBe('stopped');
  });

  it('answers a BadRequestError for a pending task, and leaves it running', async () => {
    const { task } = sim.createCloudTask();
    const error = await rejectionOf(cloud.stop(task.id));
    expectApiError(error, BadRequestError, 400, 'PATCH', `/api/tasks/${task.id}`);
    expect(error.body).toEqual({ error: 'Task is not in progress' });
    expect(sim.getCloudTask(task.id)?.stoppedAtMs).toBeNull();
    expect(sim.ledger.byRoute.get('cloud.stop')).toBe(1);
  });

  it('answers a BadRequestError for a finished or an already stopped task', async () => {
    const finished = sim.createCloudTask({ durationMs: 1_000 });
    const running = sim.createCloudTask();
    now += 2_000;
    await expect(cloud.stop(finished.task.id)).rejects.toBeInstanceOf(BadRequestError);
    await cloud.stop(running.task.id);
    await expect(cloud.stop(running.task.id)).rejects.toBeInstanceOf(BadRequestError);
    expect(sim.ledger.stops.get(running.task.id)).toBe(2);
  });
});

describe('CloudClient.continueTask', () => {
  it('continues a task with a follow-up prompt and answers {success: true, message}', async () => {
    const { task } = sim.createCloudTask({ durationMs: 1_000 });
    now += 5_000;
    expect(await cloud.continueTask(task.id, { currentPrompt: 'Also update the docs', selectedAgent: 'claude', selectedModel: 'm' })).toEqual({
      success: true,
      message: expect.any(String),
    });
    expect(sim.ledger.byRoute.get('cloud.continue')).toBe(1);
    expect((await cloud.getStatus(task.id)).status).toBe('processing');
  });

  it('refuses a missing or blank currentPrompt without sending a request', async () => {
    const { task } = sim.createCloudTask();
    for (const body of [{}, { currentPrompt: '' }, { currentPrompt: '   ' }, { prompt: 'wrong field' }]) {
      expect(await captureError(() => cloud.continueTask(task.id, body as never))).toBeInstanceOf(ValidationError);
    }
    expect(sim.ledger.requests).toBe(0);
  });
});

describe('CloudClient errors', () => {
  it('maps 400 to BadRequestError with the body, method and path (query included)', async () => {
    const error = await rejectionOf(cloud.listTasks({ status: 'running', offset: 3 }));
    expectApiError(error, BadRequestError, 400, 'GET', '/api/tasks?offset=3&status=running');
    expect(error.body).toEqual({ error: 'status must be one of active, completed, failed, stopped' });
  });

  it('maps a wrong key to AuthenticationError with the body {"error":"Unauthorized"}, and does not retry it', async () => {
    const wrong = new CloudClient({ apiKey: 'bb_wrong', baseUrl: sim.url, retryBackoff: FAST });
    const { task } = sim.createCloudTask();
    const error = await rejectionOf(wrong.getStatus(task.id));
    expectApiError(error, AuthenticationError, 401, 'GET', `/api/tasks/${task.id}/status`);
    expect(error.body).toEqual({ error: 'Unauthorized' });
    expect(sim.ledger.requests).toBe(1);
  });

  it('maps the Agent API key used on the Cloud API to AuthenticationError', async () => {
    const crossed = new CloudClient({ apiKey: sim.agentKey, baseUrl: sim.url });
    expect(await rejectionOf(crossed.listTasks())).toBeInstanceOf(AuthenticationError);
  });

  it("maps another user's task to NotFoundError, as the Cloud API hides it, and a stop changes nothing", async () => {
    const { task } = sim.createCloudTask({ owner: OTHER_KEY });
    now += 1_000;
    const read = await rejectionOf(cloud.getTask(task.id));
    expectApiError(read, NotFoundError, 404, 'GET', `/api/tasks/${task.id}`);
    expect(read.body).toEqual({ error: 'Task not found' });
    await expect(cloud.stop(task.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(sim.getCloudTask(task.id)?.stoppedAtMs).toBeNull();
  });

  it('maps an unknown task to NotFoundError on every call that takes a taskId', async () => {
    const id = 'AAAAAAAAAAAAAAAAAAAAA';
    const calls: [() => Promise<unknown>, string, string][] = [
      [() => cloud.getTask(id), 'GET', `/api/tasks/${id}`],
      [() => cloud.getStatus(id), 'GET', `/api/tasks/${id}/status`],
      [() => cloud.stop(id), 'PATCH', `/api/tasks/${id}`],
      [() => cloud.continueTask(id, { currentPrompt: 'more' }), 'POST', `/api/tasks/${id}/continue`],
    ];
    for (const [call, method, path] of calls) {
      const error = await rejectionOf(call());
      expectApiError(error, NotFoundError, 404, method, path);
    }
    expect(sim.ledger.requests).toBe(calls.length);
  });

  it('maps 429 to RateLimitError with retryAfterMs once the retries are exhausted', async () => {
    const clock = installClock();
    try {
      sim.setFaults({ rate429: 1, retryAfterSeconds: 3 });
      const client = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retries: 2, retryBackoff: FAST });
      const start = clock.now;
      const error = await rejectionOf(drive(clock, client.getTask('AAAAAAAAAAAAAAAAAAAAA'), 100));
      expectApiError(error, RateLimitError, 429, 'GET', '/api/tasks/AAAAAAAAAAAAAAAAAAAAA');
      expect((error as RateLimitError).retryAfterMs).toBe(3_000);
      expect(sim.ledger.byRoute.get('cloud.get')).toBe(3);
      expect(clock.now - start).toBeGreaterThanOrEqual(6_000);
    } finally {
      clock.uninstall();
    }
  });

  it('maps 500 to InternalServerError', async () => {
    sim.setFaults({ errorRate: 1 });
    const client = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retries: 0 });
    const error = await rejectionOf(client.createTask({ prompt: 'x' }));
    expectApiError(error, InternalServerError, 500, 'POST', '/api/tasks');
    expect(error.body).toEqual({ error: 'Internal server error' });
    expect(sim.ledger.byRoute.get('cloud.create')).toBe(1);
  });

  it('maps an HTML 502 page to InternalServerError with a readable message', async () => {
    sim.setFaults({ htmlErrorRate: 1 });
    const { task } = sim.createCloudTask();
    const client = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retries: 0 });
    const error = await rejectionOf(client.stop(task.id));
    expectApiError(error, InternalServerError, 502, 'PATCH', `/api/tasks/${task.id}`);
    expect(error.message).toContain('502 Bad Gateway');
    expect(error.message).not.toMatch(/<\/?[a-z]/i);
    expect(typeof error.body).toBe('string');
  });

  it('retries a stop (a PATCH) after a 502 and stops the task exactly once', async () => {
    const clock = installClock();
    try {
      const { task } = sim.createCloudTask();
      now += 1_000;
      sim.setFaults({ htmlErrorRate: 1 });
      const client = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retries: 2, retryBackoff: { initialMs: 1_000, maxMs: 1_000, jitter: 0 } });
      const stopping = client.stop(task.id);
      // The retry waits on the fake clock, so the proxy is healthy again before it is sent.
      await waitFor(() => sim.ledger.faults.htmlError === 1, 'the first attempt got its 502');
      sim.clearFaults();
      const stopped = await drive(clock, stopping);
      expect(stopped).toMatchObject({ message: 'Task stopped successfully', task: { id: task.id, status: 'stopped' } });
      expect(sim.ledger.byRoute.get('cloud.stop')).toBe(2);
      expect(sim.ledger.stops.get(task.id)).toBe(1);
    } finally {
      clock.uninstall();
    }
  });
});

describe('CloudClient input validation', () => {
  const badIds: [string, unknown][] = [
    ['an empty ID', ''],
    ['a blank ID', ' '],
    ['surrounding whitespace', ' 9qQe2F8Z_nXx9-eJA0BD6 '],
    ['"."', '.'],
    ['".."', '..'],
    ['a lone surrogate', '\uD83D'],
    ['an ID of 257 characters', 'b'.repeat(257)],
    ['null', null],
  ];

  for (const [what, id] of badIds) {
    it(`refuses ${what} as taskId on every method without sending a request`, async () => {
      const taskId = id as string;
      const calls = [
        () => cloud.getTask(taskId),
        () => cloud.getStatus(taskId),
        () => cloud.stop(taskId),
        () => cloud.continueTask(taskId, { currentPrompt: 'more' }),
      ];
      for (const call of calls) {
        const error = await captureError(call);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as Error).message).toContain('taskId');
      }
      expect(sim.ledger.requests).toBe(0);
    });
  }

  it('rejects the returned promise, never throwing synchronously, when the input is invalid', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      ['getTask', () => cloud.getTask('')],
      ['getStatus', () => cloud.getStatus('.')],
      ['stop', () => cloud.stop('x'.repeat(300))],
      ['continueTask', () => cloud.continueTask('t', { currentPrompt: '' })],
      ['createTask', () => cloud.createTask({ prompt: '' })],
      ['listTasks', () => cloud.listTasks({ limit: 101 })],
    ];
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

describe('CloudClient ID encoding', () => {
  const ids = ['../x', 'a/b', 'a?b#c', '%2F', 'тест-🚀', '..\\..', 'a%00b'];

  for (const id of ids) {
    it(`sends ${JSON.stringify(id)} as one encoded path segment on the route of the call`, async () => {
      const get = await rejectionOf(cloud.getTask(id));
      expect(get).toBeInstanceOf(NotFoundError);
      expect((get as NotFoundError).path).toBe(`/api/tasks/${encodeURIComponent(id)}`);
      await expect(cloud.getStatus(id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(cloud.stop(id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(cloud.continueTask(id, { currentPrompt: 'p' })).rejects.toBeInstanceOf(NotFoundError);
      expect(Object.fromEntries(sim.ledger.byRoute)).toEqual({ 'cloud.get': 1, 'cloud.status': 1, 'cloud.stop': 1, 'cloud.continue': 1 });
      expect([...sim.ledger.stops.keys()]).toEqual([id]);
    });
  }

  it('puts the encoded ID on the wire exactly, for every call that takes one', async () => {
    const server = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    const client = new CloudClient({ apiKey: 'bb_test', baseUrl: server.url });
    const id = '../a/b?c#d%2Fтест-🚀';
    const encoded = encodeURIComponent(id);
    await client.getTask(id);
    await client.getStatus(id);
    await client.stop(id);
    await client.continueTask(id, { currentPrompt: 'p' });
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /api/tasks/${encoded}`,
      `GET /api/tasks/${encoded}/status`,
      `PATCH /api/tasks/${encoded}`,
      `POST /api/tasks/${encoded}/continue`,
    ]);
  });
});

describe('CloudClient wire format', () => {
  let server: TestServer;
  let client: CloudClient;
  const KEY = 'bb_wire_test_key';

  beforeEach(async () => {
    server = await startTestServer((_req, res) => sendJson(res, 200, { ok: true }));
    client = new CloudClient({ apiKey: KEY, baseUrl: server.url });
  });

  it('sends each call with the method, path, query and JSON body of the API reference', async () => {
    await client.createTask({ prompt: 'Fix it', repoUrl: 'https://github.com/a/b', selectedBranch: 'main', selectedAgent: 'claude', selectedModel: 'm' });
    await client.listTasks({ limit: 10, offset: 20, status: 'active' });
    await client.listTasks();
    await client.getTask('9qQe2F8Z_nXx9-eJA0BD6');
    await client.getStatus('9qQe2F8Z_nXx9-eJA0BD6');
    await client.stop('9qQe2F8Z_nXx9-eJA0BD6');
    await client.continueTask('9qQe2F8Z_nXx9-eJA0BD6', { currentPrompt: 'More', selectedAgent: 'codex' });
    const wire = server.requests.map((r) => ({ line: `${r.method} ${r.url}`, body: r.body === '' ? undefined : (JSON.parse(r.body) as unknown) }));
    expect(wire).toEqual([
      { line: 'POST /api/tasks', body: { prompt: 'Fix it', repoUrl: 'https://github.com/a/b', selectedBranch: 'main', selectedAgent: 'claude', selectedModel: 'm' } },
      { line: 'GET /api/tasks?limit=10&offset=20&status=active', body: undefined },
      { line: 'GET /api/tasks', body: undefined },
      { line: 'GET /api/tasks/9qQe2F8Z_nXx9-eJA0BD6', body: undefined },
      { line: 'GET /api/tasks/9qQe2F8Z_nXx9-eJA0BD6/status', body: undefined },
      { line: 'PATCH /api/tasks/9qQe2F8Z_nXx9-eJA0BD6', body: { action: 'stop' } },
      { line: 'POST /api/tasks/9qQe2F8Z_nXx9-eJA0BD6/continue', body: { currentPrompt: 'More', selectedAgent: 'codex' } },
    ]);
    for (const request of server.requests) expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
  });
});
