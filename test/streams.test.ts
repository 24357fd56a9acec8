/**
 * Log snapshots and log streams (SPEC section 8) over real HTTP on loopback: a tiny `node:http` SSE
 * server that each test scripts exactly (drops, replays, malformed lines, answers before the stream), and
 * that counts the sockets it has open, so that a connection the client should have closed shows.
 */
import { getEventListeners } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentClient,
  AuthenticationError,
  CloudClient,
  ConnectionError,
  InternalServerError,
  InvalidResponseError,
  NotFoundError,
  ValidationError,
  type AgentLogEvent,
  type CloudStreamEvent,
} from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { startNode, stopAll } from '../tools/child.js';
import { captureError, rejectionOf, sendJson, sendText, waitFor } from './helpers/clients-http.js';

const AGENT_KEY = 'sk-streams-test-0123456789';
const CLOUD_KEY = 'bb_streams_test_0123456789';
/** Reconnects that cost next to nothing in real time. */
const FAST = { initialMs: 1, maxMs: 2, factor: 2, jitter: 0 };
const TS = '2025-01-01T12:00:00.000Z';

/** One request the SSE server received. */
interface Received {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/** Answers one request; `index` counts from 0 in arrival order. */
type Handler = (res: ServerResponse, request: Received, index: number) => void;

/** A loopback server of one test that knows which sockets and responses it still has open. */
interface SseServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly received: Received[];
  /**
   * The sockets that carried a request and are open now. A socket that never carried one is left out:
   * undici opens such a spare connection after a response it aborted, idle and unref'd, and reaps it.
   */
  readonly sockets: ReadonlySet<Socket>;
  /** How many responses are neither finished nor closed. */
  openResponses(): number;
  close(): Promise<void>;
}

const servers = new Set<SseServer>();

async function startSseServer(handler: Handler): Promise<SseServer> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  let open = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request: Received = { path: url.pathname, query: url.searchParams, headers: req.headers };
    received.push(request);
    const { socket } = req;
    if (!sockets.has(socket) && !socket.destroyed) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    open += 1;
    res.once('close', () => (open -= 1));
    handler(res, request, received.length - 1);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const sse: SseServer = {
    url: `http://127.0.0.1:${port}`,
    received,
    sockets,
    openResponses: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(sse);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.add(sse);
  return sse;
}

afterEach(async () => {
  await Promise.all([...servers].map((server) => server.close()));
  await stopAll();
});

/** Starts an SSE answer. */
function openSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

/** Writes one event: its data as one JSON line, named when `event` is given. */
function send(res: ServerResponse, data: unknown, event?: string): void {
  res.write(`${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`);
}

const connected = (fromIndex: number): unknown => ({ taskId: 'task-1', fromIndex, message: 'Connected to task stream', timestamp: TS });
const logData = (index: number): unknown => ({
  index,
  log: { type: 'info', contentType: 'text', message: `line ${index}`, timestamp: TS, agent: null, step: null },
  timestamp: TS,
});
const complete = (totalLogs: number): unknown => ({ status: 'completed', totalLogs, message: 'Task completed', timestamp: TS });

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** The indexes of the `log` events, in order. */
function logIndexes(events: readonly CloudStreamEvent[]): number[] {
  return events.flatMap((item) => (item.event === 'log' ? [item.data.index] : []));
}

/** Waits until the server has no socket and no response open: the client closed its connection. */
async function expectClosed(server: SseServer): Promise<void> {
  await waitFor(() => server.sockets.size === 0 && server.openResponses() === 0, 'the server sees the connection closed');
}

function cloudClient(server: SseServer, options: { retries?: number } = {}): CloudClient {
  return new CloudClient({ apiKey: CLOUD_KEY, baseUrl: server.url, retryBackoff: FAST, ...options });
}

function agentClient(server: SseServer): AgentClient {
  return new AgentClient({ apiKey: AGENT_KEY, baseUrl: server.url, retryBackoff: FAST });
}

describe('CloudClient.streamLogs', () => {
  it('delivers connected, log, status and complete as { event, data }, and ends after complete', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      res.write(': keep-alive comment\nretry: 1000\n\n');
      send(res, connected(0), 'connected');
      send(res, { status: 'processing', error: null }, 'status');
      send(res, logData(0), 'log');
      send(res, logData(1), 'log');
      send(res, complete(2), 'complete');
      // The server keeps the connection open: the client ends at `complete` and closes it.
    });
    const events = await collect(cloudClient(server).streamLogs('task-1'));
    expect(events).toEqual([
      { event: 'connected', data: connected(0) },
      { event: 'status', data: { status: 'processing', error: null } },
      { event: 'log', data: logData(0) },
      { event: 'log', data: logData(1) },
      { event: 'complete', data: complete(2) },
    ]);
    const [request] = server.received;
    expect(request?.path).toBe('/api/tasks/task-1/stream');
    expect(request?.query.get('fromIndex')).toBe('0');
    expect(request?.query.has('includeStatus')).toBe(false);
    expect(request?.headers.accept).toBe('text/event-stream');
    expect(request?.headers.authorization).toBe(`Bearer ${CLOUD_KEY}`);
    await expectClosed(server);
  });

  it('types each event by its name: the data of log, status and complete read without casts', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, logData(7), 'log');
      send(res, { status: 'error', error: 'boom' }, 'status');
      send(res, complete(8), 'complete');
    });
    const lines: string[] = [];
    for await (const item of cloudClient(server).streamLogs('task-1', { fromIndex: 7 })) {
      switch (item.event) {
        case 'log':
          lines.push(`#${item.data.index} ${item.data.log.type}: ${item.data.log.message}`);
          break;
        case 'status':
          lines.push(`status ${item.data.status} ${item.data.error ?? ''}`);
          break;
        case 'complete':
          lines.push(`complete ${item.data.status} ${item.data.totalLogs}`);
          break;
        default:
          lines.push(`other ${item.event}`);
      }
    }
    expect(lines).toEqual(['#7 info: line 7', 'status error boom', 'complete completed 8']);
  });

  it('resumes a dropped stream with fromIndex = last index + 1: no index is repeated or skipped', async () => {
    const server = await startSseServer((res, request, index) => {
      openSse(res);
      send(res, connected(Number(request.query.get('fromIndex'))), 'connected');
      if (index === 0) {
        for (let i = 0; i < 3; i++) send(res, logData(i), 'log');
        // Half of the next event, then the connection drops: index 3 must come from the resumed stream.
        res.write(`event: log\ndata: ${JSON.stringify(logData(3)).slice(0, 25)}`, () => res.destroy());
        return;
      }
      // This server ignores fromIndex and replays from 1: the client passes over what it already has.
      for (let i = 1; i < 6; i++) send(res, logData(i), 'log');
      send(res, complete(6), 'complete');
      res.end();
    });
    const events = await collect(cloudClient(server).streamLogs('task-1'));
    expect(logIndexes(events)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(server.received.map((request) => request.query.get('fromIndex'))).toEqual(['0', '3']);
    // A resumed connection greets again, with the index it resumed from.
    expect(events.map((item) => item.event)).toEqual(['connected', 'log', 'log', 'log', 'connected', 'log', 'log', 'log', 'complete']);
    expect(events[4]).toEqual({ event: 'connected', data: connected(3) });
  });

  it('resumes from the fromIndex it was given, and sends includeStatus', async () => {
    const server = await startSseServer((res, request, index) => {
      openSse(res);
      const from = Number(request.query.get('fromIndex'));
      send(res, logData(from), 'log');
      if (index === 0) res.end();
      else send(res, complete(from + 1), 'complete');
    });
    const events = await collect(cloudClient(server).streamLogs('task-1', { fromIndex: 40, includeStatus: false }));
    expect(logIndexes(events)).toEqual([40, 41]);
    expect(server.received.map((request) => request.query.toString())).toEqual(['fromIndex=40&includeStatus=false', 'fromIndex=41&includeStatus=false']);
  });

  it('keeps resuming while each connection brings a new log: `retries` counts failures in a row', async () => {
    const server = await startSseServer((res, request, index) => {
      openSse(res);
      if (index === 8) {
        send(res, complete(8), 'complete');
        return;
      }
      send(res, connected(Number(request.query.get('fromIndex'))), 'connected');
      send(res, logData(index), 'log');
      // Ends cleanly, but before `complete`: as much a drop as a reset.
      res.end();
    });
    const events = await collect(cloudClient(server, { retries: 1 }).streamLogs('task-1'));
    expect(logIndexes(events)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(server.received).toHaveLength(9);
  });

  it('gives up with a ConnectionError after `retries` reconnects in a row bring no new log', async () => {
    const server = await startSseServer((res, request) => {
      openSse(res);
      send(res, connected(Number(request.query.get('fromIndex'))), 'connected');
      send(res, { status: 'processing', error: null }, 'status');
      res.end();
    });
    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of cloudClient(server).streamLogs('task-1', { retries: 2 })) seen.push(item.event);
      })(),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).path).toBe('/api/tasks/task-1/stream?fromIndex=0');
    expect(server.received).toHaveLength(3);
    expect(seen).toEqual(['connected', 'status', 'connected', 'status', 'connected', 'status']);
  });

  it('reopens a stream refused with a 503 before it started, and honours the per-call retries', async () => {
    const server = await startSseServer((res, _request, index) => {
      if (index === 0) return sendJson(res, 503, { error: 'busy' });
      openSse(res);
      send(res, complete(0), 'complete');
    });
    expect((await collect(cloudClient(server).streamLogs('task-1'))).map((item) => item.event)).toEqual(['complete']);
    expect(server.received).toHaveLength(2);

    const refusing = await startSseServer((res) => sendJson(res, 503, { error: 'busy' }));
    expect(await rejectionOf(collect(cloudClient(refusing).streamLogs('task-1', { retries: 0 })))).toBeInstanceOf(InternalServerError);
    expect(refusing.received).toHaveLength(1);
  });

  it('rejects with the typed error of a JSON answer before the stream (401, 404), without retrying it', async () => {
    const server = await startSseServer((res, request) => {
      if (request.path.includes('missing')) sendJson(res, 404, { error: 'Task not found' });
      else sendJson(res, 401, { error: 'Unauthorized' });
    });
    const cloud = cloudClient(server);
    const unauthorized = await rejectionOf(collect(cloud.streamLogs('task-1')));
    expect(unauthorized).toBeInstanceOf(AuthenticationError);
    expect(unauthorized).toMatchObject({ status: 401, method: 'GET', path: '/api/tasks/task-1/stream?fromIndex=0', body: { error: 'Unauthorized' } });
    const missing = await rejectionOf(collect(cloud.streamLogs('missing')));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).message).toContain('Task not found');
    expect(server.received).toHaveLength(2);
  });

  it('rejects a malformed data line with an InvalidResponseError and closes the connection', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, connected(0), 'connected');
      res.write('event: log\ndata: {"index": 0, "log": oops\n\n');
    });
    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of cloudClient(server).streamLogs('task-1')) seen.push(item.event);
      })(),
    );
    expect(seen).toEqual(['connected']);
    expect(error).toBeInstanceOf(InvalidResponseError);
    expect((error as InvalidResponseError).message).toMatch(/^200 GET \/api\/tasks\/task-1\/stream\?fromIndex=0: event data that is not JSON/);
    expect((error as InvalidResponseError).body).toBe('{"index": 0, "log": oops');
    // Not a transient failure: no reconnect.
    expect(server.received).toHaveLength(1);
    await expectClosed(server);
  });

  it('refuses a log without an integer index, data that is not an object, and a 200 that is not an event stream', async () => {
    const bodies = ['event: log\ndata: {"index": "3"}\n\n', 'event: status\ndata: [1, 2]\n\n'];
    const server = await startSseServer((res, _request, index) => {
      openSse(res);
      res.write(bodies[index] ?? '');
    });
    const cloud = cloudClient(server);
    const noIndex = await rejectionOf(collect(cloud.streamLogs('task-1')));
    expect(noIndex).toBeInstanceOf(InvalidResponseError);
    expect((noIndex as Error).message).toContain('a log event without an integer "index"');
    const notObject = await rejectionOf(collect(cloud.streamLogs('task-1')));
    expect((notObject as Error).message).toContain('event data that is not a JSON object');
    await expectClosed(server);

    const portal = await startSseServer((res) => sendText(res, 200, '<html>portal</html>', 'text/html'));
    const html = await rejectionOf(collect(cloudClient(portal).streamLogs('task-1')));
    expect(html).toBeInstanceOf(InvalidResponseError);
    expect((html as Error).message).toContain('expected text/event-stream, got text/html');
    expect(portal.received).toHaveLength(1);
  });

  it('passes events of unknown names through, unnamed ones as `message`', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, { at: 1 }, 'heartbeat');
      send(res, { hello: 'world' });
      send(res, complete(0), 'complete');
    });
    const events = await collect(cloudClient(server).streamLogs('task-1'));
    expect(events).toEqual([
      { event: 'heartbeat', data: { at: 1 } },
      { event: 'message', data: { hello: 'world' } },
      { event: 'complete', data: complete(0) },
    ]);
    const other = events[0];
    if (other && other.event !== 'log' && other.event !== 'status' && other.event !== 'complete') {
      const data: unknown = other.data;
      expect(data).toEqual({ at: 1 });
    }
  });

  it('closes the connection when the loop is left with break', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, connected(0), 'connected');
      send(res, logData(0), 'log');
      // Never ends: only the client can close it.
    });
    for await (const item of cloudClient(server).streamLogs('task-1')) {
      if (item.event === 'log') break;
    }
    await expectClosed(server);
    expect(server.received).toHaveLength(1);
  });

  it('closes the connection and rejects with signal.reason when the signal aborts mid-stream', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, connected(0), 'connected');
    });
    const stop = new AbortController();
    const reason = new Error('stop following');
    const iterating = (async () => {
      for await (const item of cloudClient(server).streamLogs('task-1', { signal: stop.signal })) {
        if (item.event === 'connected') setTimeout(() => stop.abort(reason), 10);
      }
    })();
    expect(await rejectionOf(iterating)).toBe(reason);
    await expectClosed(server);
    expect(server.received).toHaveLength(1);
  });

  it('stops waiting to reconnect when the signal aborts, and sends nothing for a signal aborted already', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      res.end();
    });
    const cloud = new CloudClient({ apiKey: CLOUD_KEY, baseUrl: server.url, retries: 5, retryBackoff: { initialMs: 60_000, maxMs: 60_000, jitter: 0 } });
    const stop = new AbortController();
    const iterating = collect(cloud.streamLogs('task-1', { signal: stop.signal }));
    await waitFor(() => server.received.length === 1 && server.openResponses() === 0, 'the first connection ended');
    stop.abort('no more');
    const started = performance.now();
    expect(await rejectionOf(iterating)).toBe('no more');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(server.received).toHaveLength(1);

    expect(await rejectionOf(collect(cloud.streamLogs('task-1', { signal: AbortSignal.abort('gone') })))).toBe('gone');
    expect(server.received).toHaveLength(1);
  });

  it('leaves no abort listener behind on a signal that many streams share', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, logData(0), 'log');
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const shared = new AbortController();
      const cloud = cloudClient(server);
      const streams = Array.from({ length: 15 }, () => cloud.streamLogs('task-1', { signal: shared.signal })[Symbol.asyncIterator]());
      await Promise.all(streams.map((stream) => stream.next()));
      expect(server.openResponses()).toBe(15);
      expect(getEventListeners(shared.signal, 'abort').length).toBeLessThanOrEqual(1);
      await Promise.all(streams.map((stream) => stream.return?.()));
      await expectClosed(server);
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('refuses a bad taskId, fromIndex or includeStatus before sending anything', async () => {
    const server = await startSseServer((res) => sendJson(res, 500, {}));
    const cloud = cloudClient(server);
    for (const call of [
      () => cloud.streamLogs(''),
      () => cloud.streamLogs('..'),
      () => cloud.streamLogs(42 as never),
      () => cloud.streamLogs('task-1', { fromIndex: -1 }),
      () => cloud.streamLogs('task-1', { fromIndex: 1.5 }),
      () => cloud.streamLogs('task-1', { fromIndex: '3' as never }),
      () => cloud.streamLogs('task-1', { includeStatus: 'yes' as never }),
    ]) {
      expect(await captureError(call)).toBeInstanceOf(ValidationError);
    }
    expect(server.received).toHaveLength(0);
  });

  it('encodes the task ID in the path', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, complete(0), 'complete');
    });
    await collect(cloudClient(server).streamLogs('a/b?c'));
    expect(server.received[0]?.path).toBe('/api/tasks/a%2Fb%3Fc/stream');
  });
});

describe('AgentClient.streamLogs', () => {
  const events: readonly AgentLogEvent[] = [
    { type: 'session-init', sessionId: 's-1' },
    { type: 'text-start', id: 't1' },
    { type: 'text-delta', id: 't1', delta: 'Hello, ' },
    { type: 'text-delta', id: 't1', delta: 'world' },
    { type: 'tool-call-start', toolCallId: 'c1', toolName: 'bash' },
    { type: 'tool-input-available', toolCallId: 'c1', toolName: 'bash', input: { command: 'ls' } },
    { type: 'tool-output-available', toolCallId: 'c1', output: 'README.md' },
    { type: 'files', files: [{ path: 'README.md' }] },
    { type: 'result', result: 'ok' },
    { type: 'finish', runId: 'run-1', status: 'completed' },
  ];

  it("delivers each event's parsed data, ending with finish, and closes the connection", async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      for (const event of events) send(res, event);
      // Kept open: the client ends at `finish`.
    });
    const agent = agentClient(server);
    expect(await collect(agent.streamLogs('run-1', { includeDeltas: false }))).toEqual(events);
    const [request] = server.received;
    expect(request?.path).toBe('/api/v1/tasks/run-1/logs/stream');
    expect(request?.query.toString()).toBe('includeDeltas=false');
    expect(request?.headers.accept).toBe('text/event-stream');
    expect(request?.headers.authorization).toBe(`Bearer ${AGENT_KEY}`);
    await expectClosed(server);
  });

  it('types each event by its type: deltas, tools and finish read without casts', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      for (const event of events) send(res, event);
    });
    let text = '';
    const tools: string[] = [];
    let status = '';
    for await (const event of agentClient(server).streamLogs('run-1')) {
      if (event.type === 'text-delta') text += event.delta;
      else if (event.type === 'tool-call-start') tools.push(event.toolName);
      else if (event.type === 'finish') status = event.status;
    }
    expect({ text, tools, status }).toEqual({ text: 'Hello, world', tools: ['bash'], status: 'completed' });
    expect(server.received[0]?.query.toString()).toBe('');
  });

  it('passes events of unknown types through unchanged', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, { type: 'reasoning-delta', id: 'r1', delta: 'hmm' });
      send(res, { type: 'finish', runId: 'run-1', status: 'completed' });
    });
    const [first] = await collect(agentClient(server).streamLogs('run-1'));
    expect(first).toEqual({ type: 'reasoning-delta', id: 'r1', delta: 'hmm' });
    const fields: Readonly<Record<string, unknown>> | undefined = first;
    expect(fields?.['delta']).toBe('hmm');
  });

  it('rejects with a ConnectionError when the connection drops after the first event (the API cannot resume)', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, events[0]);
      send(res, events[1]);
      res.write('data: {"type":"text-del', () => res.destroy());
    });
    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const event of agentClient(server).streamLogs('run-1')) seen.push(event.type);
      })(),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(seen).toEqual(['session-init', 'text-start']);
    expect(server.received).toHaveLength(1);
  });

  it('reopens a stream that failed before its first event', async () => {
    const server = await startSseServer((res, _request, index) => {
      openSse(res);
      if (index === 0) return void res.destroy();
      send(res, events.at(-1));
    });
    expect(await collect(agentClient(server).streamLogs('run-1'))).toEqual([events.at(-1)]);
    expect(server.received).toHaveLength(2);
  });

  it('rejects with the typed error of a JSON answer before the stream (401, 404)', async () => {
    const server = await startSseServer((res, request) => {
      if (request.path.includes('missing')) sendJson(res, 404, { error: 'Task not found' });
      else sendJson(res, 401, { error: 'Unauthorized' });
    });
    const agent = agentClient(server);
    const unauthorized = await rejectionOf(collect(agent.streamLogs('run-1')));
    expect(unauthorized).toBeInstanceOf(AuthenticationError);
    expect(unauthorized).toMatchObject({ status: 401, path: '/api/v1/tasks/run-1/logs/stream' });
    expect(await rejectionOf(collect(agent.streamLogs('missing')))).toBeInstanceOf(NotFoundError);
    expect(server.received).toHaveLength(2);
  });

  it('rejects a malformed data line, or data without a string type, with an InvalidResponseError and closes the connection', async () => {
    const lines = ['data: not json at all\n\n', 'data: {"id": "t1"}\n\n'];
    const server = await startSseServer((res, _request, index) => {
      openSse(res);
      res.write(lines[index] ?? '');
    });
    const agent = agentClient(server);
    const notJson = await rejectionOf(collect(agent.streamLogs('run-1')));
    expect(notJson).toBeInstanceOf(InvalidResponseError);
    expect((notJson as Error).message).toBe('200 GET /api/v1/tasks/run-1/logs/stream: event data that is not JSON: "not json at all"');
    const noType = await rejectionOf(collect(agent.streamLogs('run-1')));
    expect(noType).toBeInstanceOf(InvalidResponseError);
    expect((noType as InvalidResponseError).body).toEqual({ id: 't1' });
    await expectClosed(server);
  });

  it('closes the connection when the loop is left with break', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, events[0]);
    });
    for await (const event of agentClient(server).streamLogs('run-1')) {
      if (event.type === 'session-init') break;
    }
    await expectClosed(server);
  });

  it('opens a stream of its own for each loop, and none before the loop starts', async () => {
    const server = await startSseServer((res) => {
      openSse(res);
      send(res, events.at(-1));
    });
    const stream = agentClient(server).streamLogs('run-1');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.received).toHaveLength(0);
    expect(await collect(stream)).toEqual([events.at(-1)]);
    expect(await collect(stream)).toEqual([events.at(-1)]);
    expect(server.received).toHaveLength(2);
  });

  it('refuses a bad runId or includeDeltas before sending anything', async () => {
    const server = await startSseServer((res) => sendJson(res, 500, {}));
    const agent = agentClient(server);
    for (const call of [() => agent.streamLogs(' run-1'), () => agent.streamLogs('.'), () => agent.streamLogs('run-1', { includeDeltas: 1 as never })]) {
      expect(await captureError(call)).toBeInstanceOf(ValidationError);
    }
    expect(server.received).toHaveLength(0);
  });
});

describe('AgentClient.getLogs', () => {
  const answer = {
    runId: 'run-1',
    chatId: 'chat-1',
    status: 'completed',
    source: 'buffer',
    eventCount: 2,
    events: [
      { type: 'text-delta', id: 't1', delta: 'hi' },
      { type: 'finish', runId: 'run-1', status: 'completed' },
    ],
    error: null,
    rawEvents: [{ raw: true }],
  };

  it('GETs the log snapshot with includeDeltas and raw, and answers it typed', async () => {
    const server = await startSseServer((res) => sendJson(res, 200, answer));
    const agent = agentClient(server);
    const logs = await agent.getLogs('run-1', { includeDeltas: false, raw: true });
    expect(logs).toEqual(answer);
    expect(logs.events.flatMap((event) => (event.type === 'text-delta' ? [event.delta] : []))).toEqual(['hi']);
    expect(server.received[0]?.path).toBe('/api/v1/tasks/run-1/logs');
    expect(server.received[0]?.query.toString()).toBe('includeDeltas=false&raw=true');
    await agent.getLogs('run-1');
    expect(server.received[1]?.query.toString()).toBe('');
  });

  it('maps errors like any other call, and refuses bad input before sending anything', async () => {
    const server = await startSseServer((res) => sendJson(res, 404, { error: 'Task not found' }));
    const agent = agentClient(server);
    expect(await rejectionOf(agent.getLogs('run-1'))).toBeInstanceOf(NotFoundError);
    expect(server.received).toHaveLength(1);
    expect(await rejectionOf(agent.getLogs(''))).toBeInstanceOf(ValidationError);
    expect(await rejectionOf(agent.getLogs('run-1', { raw: 'true' as never }))).toBeInstanceOf(ValidationError);
    expect(server.received).toHaveLength(1);
  });
});

describe('liveness', () => {
  it('a process whose streams finished, were left with break or aborted exits by itself', async () => {
    const server = await startSseServer((res, request) => {
      openSse(res);
      if (request.path === '/api/v1/tasks/run-finished/logs/stream') {
        send(res, { type: 'text-delta', id: 't1', delta: 'done' });
        send(res, { type: 'finish', runId: 'run-finished', status: 'completed' });
        return void res.end();
      }
      if (request.path === '/api/tasks/task-finished/stream') {
        send(res, connected(0), 'connected');
        send(res, logData(0), 'log');
        send(res, complete(1), 'complete');
        return void res.end();
      }
      // task-live: never ends; only the client can close it.
      send(res, connected(0), 'connected');
      send(res, logData(0), 'log');
    });
    const child = startNode('test/fixtures/stream-exit.ts', { env: { TG_URL: server.url, TG_AGENT_KEY: AGENT_KEY, TG_CLOUD_KEY: CLOUD_KEY } });
    const exit = await child.waitForExit(20_000);
    expect(exit, child.describe()).toMatchObject({ code: 0, signal: null });
    expect(child.tagged('AGENT_FINISHED')).toEqual(['["text-delta","finish"]']);
    expect(child.tagged('CLOUD_FINISHED')).toEqual(['["connected","log","complete"]']);
    expect(child.tagged('LEFT_EARLY')).toEqual(['']);
    expect(child.tagged('ABORTED')).toEqual(['"enough"']);
    expect(server.received).toHaveLength(4);
  });
});

describe('against the simulator', () => {
  let sim: Simulator;
  let agent: AgentClient;
  let cloud: CloudClient;

  beforeEach(async () => {
    sim = await createSimulator({ seed: 29, queuedMs: 20, savingMs: 50 });
    agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retryBackoff: FAST });
    cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retryBackoff: FAST });
  });

  afterEach(async () => {
    await sim.close();
  });

  it('an agent stream delivers what the logs snapshot holds once the run is over, ending with finish', async () => {
    const { runId } = sim.createAgentRun({ durationMs: 400 });
    const streamed = await collect(agent.streamLogs(runId));
    expect(streamed.at(-1)).toEqual({ type: 'finish', runId, status: 'completed' });
    expect(streamed.some((event) => event.type === 'text-delta')).toBe(true);

    const logs = await agent.getLogs(runId);
    expect(logs).toMatchObject({ runId, status: 'completed', eventCount: streamed.length, error: null });
    expect(logs.events).toEqual(streamed);

    const lean = await agent.getLogs(runId, { includeDeltas: false, raw: true });
    expect(lean.events.some((event) => event.type === 'text-delta')).toBe(false);
    expect(lean.rawEvents).toHaveLength(streamed.length);
    expect(await collect(agent.streamLogs(runId, { includeDeltas: false }))).toEqual(lean.events);
    await waitFor(() => sim.ledger.openStreams === 0, 'every stream closed');
  });

  it('an agent stream cut by the server rejects with a ConnectionError after the events it delivered', async () => {
    sim.setFaults({ streamDropAfterEvents: 3 });
    const { runId } = sim.createAgentRun({ durationMs: 300 });
    const seen: string[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const event of agent.streamLogs(runId)) seen.push(event.type);
      })(),
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(seen).toHaveLength(3);
    expect(sim.ledger.droppedStreams).toBe(1);
  });

  it('a cloud stream cut by the server every two logs resumes to complete with every index exactly once', async () => {
    sim.setFaults({ streamDropAfterEvents: 2 });
    const { task } = sim.createCloudTask({ durationMs: 500 });
    const events = await collect(cloud.streamLogs(task.id));
    const indexes = logIndexes(events);
    expect(indexes.length).toBeGreaterThan(4);
    expect(indexes).toEqual(indexes.map((_, i) => i));
    expect(events.at(-1)).toMatchObject({ event: 'complete', data: { status: 'completed', totalLogs: indexes.length } });
    expect(sim.ledger.droppedStreams).toBeGreaterThanOrEqual(2);

    sim.clearFaults();
    const lines = (items: readonly CloudStreamEvent[]): unknown[] => items.flatMap((item) => (item.event === 'log' ? [item.data.log] : []));
    expect(lines(await collect(cloud.streamLogs(task.id)))).toEqual(lines(events));
    const tail = await collect(cloud.streamLogs(task.id, { fromIndex: 3, includeStatus: false }));
    expect(logIndexes(tail)).toEqual(indexes.slice(3));
    expect(tail.some((item) => item.event === 'status')).toBe(false);
  });

  it('rejects with the typed error before the stream: an unknown task, a wrong key', async () => {
    expect(await rejectionOf(collect(cloud.streamLogs('no-such-task')))).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(collect(agent.streamLogs('no-such-run')))).toBeInstanceOf(NotFoundError);
    const { runId } = sim.createAgentRun();
    const stranger = new AgentClient({ apiKey: 'sk-not-a-user-0123456789', baseUrl: sim.url, retries: 0 });
    expect(await rejectionOf(collect(stranger.streamLogs(runId)))).toBeInstanceOf(AuthenticationError);
  });

  it('leaving the loop over a never-ending task closes the stream on the server', async () => {
    const { task } = sim.createCloudTask({ durationMs: Number.POSITIVE_INFINITY });
    for await (const item of cloud.streamLogs(task.id)) {
      if (item.event === 'log') break;
    }
    const { runId } = sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY });
    const stop = new AbortController();
    const reason = new Error('enough');
    const following = (async () => {
      for await (const event of agent.streamLogs(runId, { signal: stop.signal })) if (event.type === 'session-init') stop.abort(reason);
    })();
    expect(await rejectionOf(following)).toBe(reason);
    await waitFor(() => sim.ledger.openStreams === 0, 'the simulator sees both streams closed');
  });
});
