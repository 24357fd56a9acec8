import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, CLIENT_DEFAULTS, CloudClient, InvalidResponseError, TaskManager, type TaskManagerEvents } from '../src/index.js';
import { countingFetch, waitFor } from './helpers/clients-http.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const MiB = 1024 * 1024;

/** A server that answers whatever the test says: the simulator only says what the API documents. */
let server: Server;
let other: Server;
let url: string;
let otherUrl: string;
let handler: Handler;
const otherHits: string[] = [];

const json = (body: unknown) => (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  server = createServer((req, res) => handler(req, res));
  other = createServer((req, res) => {
    otherHits.push(`${req.url} ${req.headers.authorization ?? ''}`);
    res.end('{}');
  });
  url = await listen(server);
  otherUrl = await listen(other);
});

afterAll(async () => {
  for (const s of [server, other]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

function manager(fetch?: typeof globalThis.fetch): { manager: TaskManager; errors: unknown[] } {
  const errors: unknown[] = [];
  const clientOptions = { baseUrl: url, retries: 0, ...(fetch && { fetch }) };
  const m = new TaskManager({
    agent: new AgentClient({ apiKey: 'sk-bad-responses', ...clientOptions }),
    cloud: new CloudClient({ apiKey: 'bb_bad-responses', ...clientOptions }),
    poll: { initialMs: 10, maxMs: 40 },
  });
  m.on('error', (e: TaskManagerEvents['error'][0]) => errors.push(e.error));
  return { manager: m, errors };
}

/** The cancel (PATCH) is answered properly, so that the deadline can end the task; the reads misbehave. */
function badReads(read: Handler): Handler {
  return (req, res) => {
    if (req.method !== 'PATCH') return read(req, res);
    const body = req.url?.startsWith('/api/v1/')
      ? { success: true, status: 'cancelled', message: 'Task run-1 cancelled successfully' }
      : { message: 'Task stopped successfully', task: { id: 'run-1', status: 'stopped' } };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
}

/** Tracks one run with a short deadline and waits for it: every bad answer must still end in a result. */
async function trackThrough(h: Handler, kind: 'agent' | 'cloud' = 'agent') {
  handler = badReads(h);
  const { manager: m, errors } = manager();
  const result = await m.track({ kind, id: 'run-1' }, { timeoutMs: 150 }).done;
  m.close();
  return { result, errors };
}

describe('the manager facing bad responses', () => {
  it('reports truncated JSON as a typed error and keeps tracking until the deadline', async () => {
    const { result, errors } = await trackThrough((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"runId":"run-1","sta'));
    expect(errors[0]).toBeInstanceOf(InvalidResponseError);
    expect(result).toMatchObject({ kind: 'agent', outcome: 'timed_out', status: 'cancelled' });
  });

  it('reports an empty 200 body as InvalidResponseError', async () => {
    const { errors } = await trackThrough((_req, res) => res.writeHead(200).end());
    expect(errors[0]).toBeInstanceOf(InvalidResponseError);
  });

  it('normalizes a status of the wrong type as still running, keeping the raw value', async () => {
    const statuses: string[] = [];
    handler = badReads(json({ runId: 'run-1', status: 42 }));
    const { manager: m } = manager();
    m.on('status', (e) => statuses.push(e.status.raw));
    const result = await m.track({ kind: 'agent', id: 'run-1' }, { timeoutMs: 100 }).done;
    m.close();
    expect(statuses[0]).toBe('42');
    expect(result.outcome).toBe('timed_out');
  });

  it('does not trust isDone: "yes" from the Cloud API, and ends a task whose word says so', async () => {
    const { result } = await trackThrough(json({ taskId: 'run-1', status: 'completed', isDone: 'yes', inProgress: 'no' }), 'cloud');
    expect(result).toMatchObject({ outcome: 'completed', status: 'completed' });
  });

  it('keeps watching a run whose status word it does not know', async () => {
    const statuses: string[] = [];
    handler = badReads(json({ runId: 'run-1', status: 'warming_up' }));
    const { manager: m } = manager();
    m.on('status', (e) => statuses.push(`${e.status.raw}:${e.status.state}`));
    const result = await m.track({ kind: 'agent', id: 'run-1' }, { timeoutMs: 100 }).done;
    m.close();
    expect(statuses[0]).toBe('warming_up:running');
    expect(result.outcome).toBe('timed_out');
  });

  it('refuses a gigantic body without buffering it whole', async () => {
    const chunk = Buffer.alloc(MiB, 0x20);
    const gigantic: Handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const pump = (): void => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64) res.once('drain', pump);
        else res.end();
      };
      pump();
    };
    const counting = countingFetch();
    handler = badReads(gigantic);
    const { manager: m, errors } = manager(counting.fetch);
    // No deadline here: reading 16 MiB can take longer than a short one on a busy machine.
    m.track({ kind: 'agent', id: 'run-1' });
    await waitFor(() => errors.length > 0, 'the manager reports the refused body');
    await m.close();
    const limit = CLIENT_DEFAULTS.maxResponseBytes;
    expect(errors[0]).toBeInstanceOf(InvalidResponseError);
    expect((errors[0] as Error).message).toContain(`larger than ${limit} bytes`);
    // Each 64 MiB body was read to the limit and at most a chunk past it, never to its end.
    expect(counting.bytesRead.some((bytes) => bytes > limit)).toBe(true);
    expect(Math.max(...counting.bytesRead)).toBeLessThanOrEqual(limit + 256 * 1024);
  });

  it('never follows a redirect to another host with the key', async () => {
    const { errors } = await trackThrough((_req, res) => res.writeHead(302, { location: `${otherUrl}/steal` }).end());
    expect(otherHits).toEqual([]);
    expect(errors[0]).toMatchObject({ status: 302 });
  });
});
