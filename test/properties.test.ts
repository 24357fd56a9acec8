import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient, ApiError, BlackboxError, TaskManager, ValidationError, errorFromResponse } from '../src/index.js';
import { backoffDelay } from '../src/util/backoff.js';
import { fakeClock, ScriptedBackend } from './helpers/fake-backend.js';

type Command =
  | { readonly op: 'track'; readonly id: number; readonly durationMs: number; readonly timeoutMs: number | undefined }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'cancel'; readonly id: number }
  | { readonly op: 'change'; readonly id: number }
  | { readonly op: 'fail'; readonly kind: 'status' | 'cancel' }
  | { readonly op: 'shutdown'; readonly graceMs: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('track' as const), id: fc.nat(15), durationMs: fc.integer({ min: 0, max: 5_000 }), timeoutMs: fc.option(fc.integer({ min: 0, max: 4_000 }), { nil: undefined }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), id: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('change' as const), id: fc.nat(15) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fail' as const), kind: fc.constantFrom('status' as const, 'cancel' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('shutdown' as const), graceMs: fc.integer({ min: 0, max: 3_000 }) }) },
);

describe('the manager under any interleaving (property)', () => {
  it('settles each task exactly once, never has two requests of a task in flight, and sends nothing after settle', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), async (commands, concurrency) => {
        const { clock, fake } = fakeClock();
        const backend = new ScriptedBackend(fake);
        const manager = new TaskManager({ backends: { job: backend }, clock, concurrency, poll: { initialMs: 100, maxMs: 800 } });
        const settledAt = new Map<string, number>();
        const settleCounts = new Map<string, number>();
        manager.on('settled', ({ id }) => {
          settleCounts.set(id, (settleCounts.get(id) ?? 0) + 1);
          settledAt.set(id, fake.now);
        });
        const dones: Promise<unknown>[] = [];
        const episodes = new Map<string, number>();
        let closed = false;
        for (const c of commands) {
          const id = 'id' in c ? `t${c.id}` : '';
          if (c.op === 'track' && !closed) {
            if (!manager.active().some((ref) => ref.id === id)) episodes.set(id, (episodes.get(id) ?? 0) + 1);
            if (!backend.tasks.has(id) || settledAt.has(id)) backend.add(id, c.durationMs);
            settledAt.delete(id);
            dones.push(manager.track({ kind: 'job', id }, { timeoutMs: c.timeoutMs }).done);
          } else if (c.op === 'advance') await fake.tickAsync(c.ms);
          else if (c.op === 'cancel' && manager.active().some((ref) => ref.id === id)) void manager.cancel({ kind: 'job', id }).catch(() => {});
          else if (c.op === 'change' && backend.tasks.has(id)) backend.tasks.get(id)!.raw = `phase-${fake.now}`;
          else if (c.op === 'fail') backend.failures.push({ op: c.kind, error: new Error('transient') });
          else if (c.op === 'shutdown' && !closed) {
            closed = true;
            void manager.shutdown({ graceMs: c.graceMs });
          }
        }
        if (!closed) void manager.shutdown({ graceMs: 2_000 });
        await fake.runAllAsync();
        await Promise.all(dones);
        expect(backend.maxInFlightPerTask).toBeLessThanOrEqual(1);
        expect(backend.peakInFlight).toBeLessThanOrEqual(concurrency);
        expect(manager.active()).toEqual([]);
        expect(fake.countTimers()).toBe(0);
        expect(settleCounts).toEqual(episodes);
        for (const call of backend.calls) {
          const at = settledAt.get(call.id);
          if (at !== undefined) expect(call.at, `${call.op} ${call.id} after its settle`).toBeLessThanOrEqual(at);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('backoff (property)', () => {
  it('stays within [(1 - jitter) × min(max, initial × factor^n), max], and never below the hint', () => {
    fc.assert(
      fc.property(
        fc.nat(200),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.nat(120_000), { nil: undefined }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempt, initialMs, extra, factor, jitter, hint, r) => {
          const policy = { initialMs, maxMs: initialMs + extra, factor, jitter };
          const delay = backoffDelay(attempt, policy, hint, () => r);
          const nominal = Math.min(policy.maxMs, initialMs * factor ** attempt);
          expect(delay).toBeGreaterThanOrEqual(Math.max(hint ?? 0, Math.floor((1 - jitter) * nominal)));
          expect(delay).toBeLessThanOrEqual(Math.max(hint ?? 0, Math.ceil(nominal)));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('IDs and errors over HTTP (property)', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  let reply: { status: number; body: Buffer } = { status: 404, body: Buffer.from('{"error":"Task not found"}') };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(reply.status, { 'content-type': 'application/octet-stream' }).end(reply.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('refuses any ID with ValidationError, or sends it as exactly one encoded path segment', async () => {
    const client = new AgentClient({ apiKey: 'sk-property', baseUrl: url, retries: 0 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('..', '.', '../x', 'a/b', '%2F', '?#', ' x')), async (id) => {
        seen.length = 0;
        reply = { status: 404, body: Buffer.from('{"error":"Task not found"}') };
        const error = await client.getStatus(id).then(() => undefined, (e: unknown) => e);
        if (error instanceof ValidationError) {
          expect(seen).toEqual([]);
          return;
        }
        expect(seen).toHaveLength(1);
        const match = /^\/api\/v1\/tasks\/([^/?#]+)\/status$/.exec(seen[0]!);
        expect(match, seen[0]).not.toBeNull();
        expect(decodeURIComponent(match![1]!)).toBe(id);
      }),
      { numRuns: 300 },
    );
  });

  it('turns any error status with any body bytes into a typed error', async () => {
    const client = new AgentClient({ apiKey: 'sk-property', baseUrl: url, retries: 0 });
    await fc.assert(
      // 407 is left out: Node's fetch treats it as a network error (a ConnectionError, still typed).
      fc.asyncProperty(fc.integer({ min: 400, max: 599 }).filter((s) => s !== 407), fc.uint8Array({ maxLength: 2_048 }), async (status, bytes) => {
        reply = { status, body: Buffer.from(bytes) };
        const error = await client.getStatus('run-1').then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ApiError);
        expect((error as ApiError).status).toBe(status);
        const direct = errorFromResponse({ method: 'GET', path: '/x', status, bodyText: Buffer.from(bytes).toString('utf8') });
        expect(direct).toBeInstanceOf(BlackboxError);
        expect(direct.constructor).toBe((error as ApiError).constructor);
      }),
      { numRuns: 300 },
    );
  });
});
