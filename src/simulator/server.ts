/**
 * The HTTP server: one pipeline for every request (route, authenticate, read the body, wait out the
 * latency, fault or serve, answer or stream) and a `close` that leaves nothing behind.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BAD_GATEWAY_HTML, type Fault, type FaultPlan } from './faults.js';
import { HttpError, readBody, sendHtml, sendJson, writable, type Reply } from './http.js';
import type { Ledger, SimulatorRoute } from './ledger.js';
import type { SimulatorConfig } from './options.js';
import { decodeId, matchRoute, type Handler, type RouteContext } from './routes.js';
import { isStreamReply, StreamHub, type StreamReply } from './streams.js';
import type { Users } from './users.js';

/** What the server serves from. */
export interface ServerDeps {
  readonly config: SimulatorConfig;
  readonly ledger: Ledger;
  readonly faults: FaultPlan;
  readonly users: Users;
  readonly handlers: Readonly<Record<SimulatorRoute, Handler>>;
}

const INTERNAL_ERROR: Reply = { statusCode: 500, body: { error: 'Internal server error' } };

/** A `node:http` server on 127.0.0.1 that speaks both APIs. */
export class SimServer {
  readonly #deps: ServerDeps;
  readonly #server: Server;
  /** Latency timers still pending, cleared by `close` so none keeps the process alive. */
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Requests not yet closed, so `close` can resolve once the ledger has seen every one of them end. */
  readonly #open = new Set<ServerResponse>();
  /** Responses that became streams: the ledger counts them in `openStreams`, no longer in `inFlight`. */
  readonly #streaming = new WeakSet<ServerResponse>();
  readonly #streams: StreamHub;
  #closing: Promise<void> | undefined;

  constructor(deps: ServerDeps) {
    this.#deps = deps;
    this.#streams = new StreamHub(deps.ledger, deps.faults, deps.config.now);
    this.#server = createServer((req, res) => this.#onRequest(req, res));
  }

  /** Starts listening; resolves with the port. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /** Stops listening, ends every stream, destroys every connection (hung ones included) and clears every timer. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#streams.close();
      const pending = [...this.#open].map((res) => new Promise((ended) => res.once('close', ended)));
      this.#server.close(() => resolve(Promise.all(pending).then(() => undefined)));
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const { ledger } = this.#deps;
    ledger.requestOpened();
    this.#open.add(res);
    res.once('close', () => {
      this.#open.delete(res);
      if (this.#streaming.has(res)) ledger.streamClosed();
      else ledger.requestClosed();
    });
    this.#serve(req, res).catch((error: unknown) => {
      // A handler bug must cost one request a 500, never the server.
      this.#send(res, error instanceof HttpError ? error.toReply() : INTERNAL_ERROR);
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { config, ledger, faults, users, handlers } = this.#deps;
    const match = matchRoute(req.method ?? 'GET', req.url ?? '/');
    const userId = users.authenticate(match.api, req.headers.authorization);
    if (userId === undefined) throw new HttpError(401, 'Unauthorized');
    ledger.routed(match.route);
    const fault = faults.decide(ledger.inFlight, config.now);
    // The concurrency and rate limits reject on arrival, like a gateway in front of the API would.
    if (fault?.kind === 'maxConcurrent' || fault?.kind === 'rateLimit') return this.#fault(req, res, fault);
    const body = await readBody(req, config.maxBodyBytes);
    const { latencyMs } = faults.current;
    if (latencyMs > 0) await this.#sleep(latencyMs);
    if (fault !== undefined && fault.kind !== 'lostAnswer') return this.#fault(req, res, fault);
    const context: RouteContext = { userId, id: decodeId(match.rawId), query: match.query, body, nowMs: config.now() };
    if (fault !== undefined) return this.#loseAnswer(req, handlers[match.route], context);
    // The handler runs even if the client gave up meanwhile: a real server would not notice either,
    // so a cancel can land although its caller saw a timeout.
    const reply = handlers[match.route](context);
    this.#pokeStreams(context);
    if (isStreamReply(reply)) this.#stream(res, reply, context.nowMs);
    else this.#send(res, reply);
  }

  /** Applies the request, then drops the connection before any answer: the client cannot know it was applied. */
  #loseAnswer(req: IncomingMessage, handler: Handler, context: RouteContext): void {
    this.#deps.ledger.faulted('lostAnswer');
    try {
      handler(context);
    } catch {
      // The answer would have been an error; it is lost all the same.
    }
    this.#pokeStreams(context);
    req.socket.resetAndDestroy();
  }

  /** A request about a run or task may have ended it: its open streams look at once rather than at the next tick. */
  #pokeStreams({ id, nowMs }: RouteContext): void {
    if (id !== '') this.#streams.poke(id, nowMs);
  }

  #stream(res: ServerResponse, reply: StreamReply, nowMs: number): void {
    if (!writable(res)) return;
    const { ledger } = this.#deps;
    this.#streaming.add(res);
    ledger.answered(200);
    ledger.streamStarted();
    this.#streams.start(res, reply, nowMs);
  }

  #fault(req: IncomingMessage, res: ServerResponse, fault: Fault): void {
    const { ledger } = this.#deps;
    ledger.faulted(fault.kind);
    if (fault.reply) this.#send(res, fault.reply);
    else if (fault.kind === 'reset') req.socket.resetAndDestroy();
    else if (fault.kind === 'htmlError' && sendHtml(res, 502, BAD_GATEWAY_HTML)) ledger.answered(502);
    // A hang is never answered: the socket stays open until the client gives up or close() destroys it.
  }

  #send(res: ServerResponse, reply: Reply): void {
    if (sendJson(res, reply)) this.#deps.ledger.answered(reply.statusCode);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closing) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }
}
