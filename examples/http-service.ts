/**
 * An HTTP service (plain node:http) that starts one BLACKBOX agent run per request, ties the run to the
 * request's lifetime, and shuts down cleanly on SIGTERM/SIGINT.
 *
 *   POST /runs  {"prompt": "…", "timeoutMs"?: 60000}  → starts a run, answers when it ends
 *   GET  /healthz                                     → liveness: 200 until the manager is closed
 *   GET  /readyz                                      → readiness: 200 while the manager is ready, else 503
 *
 * - The client goes away (closes the connection) → the request's AbortSignal aborts → the run is cancelled.
 * - A run outlives its deadline → the manager cancels it and the request gets 504.
 * - SIGTERM: /readyz turns 503 (the manager is shutting down) and new runs get 503 while
 *   `manager.shutdown()` cancels every run still going (their requests get 503); the server keeps
 *   listening meanwhile, so that probes and late requests get an answer rather than a refused
 *   connection, then closes once every response is written, and a shutdown report is printed. Exit code 0 when every run ended (finished or cancel confirmed),
 *   1 when a cancel could not be confirmed within the grace period. We exit 0 rather than 143 on
 *   purpose: a drained shutdown is a success, and we own the signal (the manager's `shutdown` option is
 *   left off, so it neither listens for signals nor calls process.exit).
 *
 * Run it from the repository:
 *   npx tsx examples/http-service.ts           # self-driving demo: a few requests, then SIGTERM to itself
 *   npx tsx examples/http-service.ts --serve   # serve until SIGTERM/SIGINT; PORT=3000 (and HOST) to pick
 *   curl -sX POST localhost:3000/runs -d '{"prompt":"Summarize the README [sim:duration=1500]"}'
 *
 * Without TASKGUARD_BASE_URL it starts an embedded simulator (nothing leaves the machine). With it (for
 * instance from `taskguard simulate`), it talks to that URL with BLACKBOX_API_KEY.
 * `[sim:duration=…,outcome=…]` in a prompt scripts the simulated run (see docs/simulator.md).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// In your code: import { AgentClient, ApiError, … } from 'taskguard';
import { AgentClient, ApiError, ManagerClosedError, TaskManager, ValidationError, type TaskResult } from '../src/index.js';
// In your code: import { createSimulator } from 'taskguard/simulator';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

const GRACE_MS = 8_000; // keep it below the platform's kill deadline (Kubernetes: terminationGracePeriodSeconds)
const DEFAULT_RUN_TIMEOUT_MS = 60_000;
const serveOnly = process.argv.includes('--serve');

// ---------------------------------------------------------------------------------------------------
// The API: a simulator unless TASKGUARD_BASE_URL says otherwise.
let sim: Simulator | undefined;
let agent: AgentClient;
const baseUrl = process.env['TASKGUARD_BASE_URL'];
if (baseUrl) {
  agent = new AgentClient({ baseUrl }); // key from BLACKBOX_API_KEY
} else {
  sim = await createSimulator();
  agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
}

const manager = new TaskManager({
  agent,
  concurrency: 16,
  // Simulated runs last well under a second; in production keep the defaults (1 s growing to 30 s).
  poll: { initialMs: 100, maxMs: 500 },
  // No `shutdown` option: this service handles SIGTERM itself, to close the server in the same sequence.
});

const tally = { started: 0, completed: 0, cancelled: 0, timedOut: 0, other: 0 };
manager.on('tracked', () => tally.started++);
manager.on('settled', (result) => {
  if (result.outcome === 'completed') tally.completed++;
  else if (result.outcome === 'cancelled') tally.cancelled++;
  else if (result.outcome === 'timed_out') tally.timedOut++;
  else tally.other++;
});
manager.on('cancelled', ({ ref, reason }) => {
  if (reason === 'signal') log(`run ${ref.id} cancelled: its client went away`);
});
manager.on('error', ({ error, ref }) => log(`warning${ref ? ` (${ref.id})` : ''}: ${String(error)}`));

// ---------------------------------------------------------------------------------------------------
// The HTTP server.
let shuttingDown = false;

const open = new Set<ServerResponse>(); // responses not yet written

const server = createServer((req, res) => {
  open.add(res);
  res.on('close', () => open.delete(res));
  handle(req, res).catch((error: unknown) => {
    log(`unexpected: ${String(error)}`);
    send(res, 500, { error: 'internal error' });
  });
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Both probes answer with manager.health(): { ready, state, tracked, store, lastSuccessAt, lastErrorAt }.
  if (req.method === 'GET' && req.url === '/healthz') {
    const health = manager.health();
    return send(res, health.state === 'closed' ? 503 : 200, health);
  }
  if (req.method === 'GET' && req.url === '/readyz') {
    const health = manager.health();
    return send(res, health.ready ? 200 : 503, health);
  }
  if (req.method !== 'POST' || req.url !== '/runs') return send(res, 404, { error: 'not found' });
  if (shuttingDown) return send(res, 503, { error: 'shutting down' });

  let input: { prompt: string; timeoutMs: number };
  try {
    input = parseInput(await readBody(req));
  } catch (error) {
    return send(res, 400, { error: error instanceof Error ? error.message : 'bad request' });
  }

  // The request's lifetime: 'close' on the response fires when the answer was sent OR when the client
  // went away first. Only the second case aborts (and so cancels the run).
  const lifetime = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) lifetime.abort(new Error('client went away'));
  });

  let result: TaskResult;
  let runId: string;
  try {
    const run = await manager.start('agent', { prompt: input.prompt }, { timeoutMs: input.timeoutMs, signal: lifetime.signal });
    runId = run.created.runId;
    result = await run.done; // never rejects
  } catch (error) {
    if (lifetime.signal.aborted) return; // the client left while the run was being created
    if (error instanceof ManagerClosedError) return send(res, 503, { error: 'shutting down' });
    if (error instanceof ValidationError) return send(res, 400, { error: error.message });
    if (error instanceof ApiError) return send(res, 502, { error: `BLACKBOX API: ${error.status}` });
    throw error;
  }
  if (lifetime.signal.aborted) return; // nobody to answer

  const body = { runId, outcome: result.outcome, status: result.status };
  if (result.outcome === 'completed') return send(res, 200, body);
  if (result.outcome === 'timed_out') return send(res, 504, body);
  if (result.outcome === 'cancelled' && shuttingDown) return send(res, 503, body);
  return send(res, 502, body);
}

function parseInput(text: string): { prompt: string; timeoutMs: number } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('body must be JSON');
  }
  if (typeof value !== 'object' || value === null) throw new Error('body must be a JSON object');
  const { prompt, timeoutMs = DEFAULT_RUN_TIMEOUT_MS } = value as { prompt?: unknown; timeoutMs?: unknown };
  if (typeof prompt !== 'string' || prompt.trim() === '') throw new Error('prompt must be a non-empty string');
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > 3_600_000) throw new Error('timeoutMs must be 1–3600000');
  return { prompt, timeoutMs };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req.setEncoding('utf8') as AsyncIterable<string>) {
    text += chunk;
    if (text.length > 64 * 1024) throw new Error('body too large');
  }
  return text;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  // While shutting down, close each connection after its answer so server.close() can complete.
  res.writeHead(status, { 'content-type': 'application/json', ...(shuttingDown && { connection: 'close' }) });
  res.end(JSON.stringify(body));
}

// ---------------------------------------------------------------------------------------------------
// Graceful shutdown: one sequence, run once, whatever asks for it.
let stopping: Promise<void> | undefined;

function shutdown(signal: string): Promise<void> {
  stopping ??= (async () => {
    log(`${signal}: shutting down`);
    shuttingDown = true; // new runs get 503
    const report = await manager.shutdown({ graceMs: GRACE_MS }); // cancels every run still going; /readyz is 503 from now on
    // Those runs' requests now get their 503. Once every response is written, what is left open holds
    // no request (idle keep-alives, a client's pre-opened socket): close it so server.close() completes.
    await allAnswered(2_000);
    const closed = new Promise<void>((resolve) => server.close(() => resolve())); // no new connections
    server.closeAllConnections();
    await closed;

    const { counts } = report.cancel;
    console.log(`shutdown: cancelled ${counts.cancelled} runs, ${counts.alreadyDone} already done, ${counts.failed} failed, ${report.unconfirmed.length} unconfirmed, in ${report.durationMs} ms`);
    console.log(`runs: started ${tally.started}, completed ${tally.completed}, cancelled ${tally.cancelled}, timed out ${tally.timedOut}, other ${tally.other}`);
    if (sim) {
      const { tasks } = await agent.listTasks({ limit: 100 });
      const running = tasks.filter((t) => !['completed', 'failed', 'cancelled', 'interrupted'].includes(t.status));
      console.log(`server side: ${tasks.length} runs, ${running.length} still running`);
      await sim.close();
    }
    process.exitCode = report.unconfirmed.length === 0 ? 0 : 1;
    // Everything is closed: the process now exits by itself. If something still held it, don't hang
    // until the platform's SIGKILL: this unref'd timer fires only in that case.
    setTimeout(() => {
      log('something kept the process alive after shutdown; exiting');
      process.exit(1);
    }, 3_000).unref();
  })();
  return stopping;
}

/** Resolves once every response in progress is written (or after `capMs`). */
async function allAnswered(capMs: number): Promise<void> {
  const until = Date.now() + capMs;
  while (open.size > 0 && Date.now() < until) await sleep(10);
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

// In a container, listen on HOST=0.0.0.0 so that the platform's probes and traffic reach the service.
const host = process.env['HOST'] ?? '127.0.0.1';
server.listen(Number(process.env['PORT'] ?? 0), host);
await new Promise<void>((resolve) => server.once('listening', resolve));
const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${(server.address() as AddressInfo).port}`;
console.log(`listening on ${url}`);

if (!serveOnly) await selfDrivingDemo(url);

// ---------------------------------------------------------------------------------------------------
/** Plays a client: one run that completes, one client that gives up, two runs cut short by SIGTERM. */
async function selfDrivingDemo(base: string): Promise<void> {
  const post = async (label: string, prompt: string, signal?: AbortSignal): Promise<void> => {
    try {
      const res = await fetch(`${base}/runs`, { method: 'POST', body: JSON.stringify({ prompt }), ...(signal && { signal }) });
      const body = (await res.json()) as { outcome?: string };
      console.log(`client ${label}: ${res.status} ${body.outcome ?? ''}`.trimEnd());
    } catch {
      console.log(`client ${label}: gave up`);
    }
  };
  const quick = post('A', 'Write a haiku about queues [sim:duration=300]');
  const impatient = post('B', 'Refactor everything [sim:duration=never]', AbortSignal.timeout(1_000));
  const longC = post('C', 'Migrate the database [sim:duration=never]');
  const longD = post('D', 'Translate the docs [sim:duration=never]');
  await Promise.all([quick, impatient]);
  // Let B's cancel be confirmed, so that the shutdown below has exactly C and D to cancel.
  for (let waited = 0; (tally.cancelled < 1 || tally.started < 4) && waited < 5_000; waited += 20) await sleep(20);
  process.kill(process.pid, 'SIGTERM'); // what `kubectl delete pod` or Ctrl-C would send
  await Promise.all([longC, longD]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function log(line: string): void {
  console.log(`  [service] ${line}`);
}
