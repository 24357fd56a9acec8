/**
 * Server-Sent Events: the responses that stay open, and the one timer that plays them all out. What a
 * stream says is pulled from its {@link StreamSource} on the simulator clock — every tick while any
 * stream is open, and at once after a request about its task, so a cancel ends a stream without waiting.
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { FaultPlan } from './faults.js';
import type { Ledger } from './ledger.js';

/** One event: named (`event: log`, the Cloud API) or unnamed (the Agent API), with one JSON `data:` line. */
export interface SseEvent {
  readonly event?: string;
  readonly data: unknown;
  /** Whether it counts toward the `streamDropAfterEvents` fault. */
  readonly counted: boolean;
}

/** What a stream has to say at one instant. */
export interface StreamPull {
  /** The events due that were not pulled before, in order. */
  readonly events: readonly SseEvent[];
  /** Whether the stream ends after them. */
  readonly done: boolean;
}

/** The contents of one stream, pulled again and again as the clock moves. */
export interface StreamSource {
  pull(nowMs: number): StreamPull;
  /** Written last when the simulator closes while the stream is open. */
  readonly farewell?: SseEvent | undefined;
}

/** A handler's answer that streams instead of sending one JSON body. */
export interface StreamReply {
  /** The run or task ID whose requests make the stream look again at once. */
  readonly key: string;
  readonly source: StreamSource;
}

/** How often open streams look at the simulator clock, in real milliseconds. */
export const STREAM_TICK_MS = 20;

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
} as const;

interface Session {
  readonly res: ServerResponse;
  readonly key: string;
  readonly source: StreamSource;
  /** Events sent that count toward `streamDropAfterEvents`. */
  counted: number;
}

/** Whether a value is a {@link StreamReply} rather than a JSON reply. */
export function isStreamReply(value: object): value is StreamReply {
  return 'source' in value;
}

function format(event: SseEvent): string {
  return `${event.event === undefined ? '' : `event: ${event.event}\n`}data: ${JSON.stringify(event.data)}\n\n`;
}

/** Every open stream, and the timer that runs only while there is one. */
export class StreamHub {
  readonly #ledger: Ledger;
  readonly #faults: FaultPlan;
  readonly #now: () => number;
  readonly #live = new Set<Session>();
  #ticker: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(ledger: Ledger, faults: FaultPlan, now: () => number) {
    this.#ledger = ledger;
    this.#faults = faults;
    this.#now = now;
  }

  /** Sends the headers and what is due at `nowMs`, then keeps the stream open until its source is done. */
  start(res: ServerResponse, reply: StreamReply, nowMs: number): void {
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    if (this.#closed) {
      res.end();
      return;
    }
    const session: Session = { res, key: reply.key, source: reply.source, counted: 0 };
    this.#live.add(session);
    res.once('close', () => this.#forget(session));
    this.#pump(session, nowMs);
    if (this.#live.has(session)) this.#ticker ??= setInterval(() => this.#tick(), STREAM_TICK_MS);
  }

  /** Brings the streams of `key` up to date at once, after a request about it (a cancel, a stop, a continue). */
  poke(key: string, nowMs: number): void {
    for (const session of this.#live) if (session.key === key) this.#pump(session, nowMs);
  }

  /** Ends every open stream (after its farewell, if any) and stops the timer; streams started later end at once. */
  close(): void {
    this.#closed = true;
    this.#stopTicker();
    for (const { res, source } of this.#live) {
      if (res.destroyed) continue;
      if (source.farewell) res.write(format(source.farewell));
      res.end();
    }
    this.#live.clear();
  }

  #tick(): void {
    let nowMs: number;
    try {
      nowMs = this.#now();
    } catch {
      return; // a broken test clock costs the streams a tick, not the process
    }
    for (const session of [...this.#live]) this.#pump(session, nowMs);
  }

  #pump(session: Session, nowMs: number): void {
    const { res, source } = session;
    if (res.destroyed || res.writableEnded) return this.#forget(session);
    let pulled: StreamPull;
    try {
      pulled = source.pull(nowMs);
    } catch {
      // A bug in a source costs its stream, never the server: the client sees the connection drop.
      this.#forget(session);
      res.destroy();
      return;
    }
    const dropAfter = this.#faults.current.streamDropAfterEvents;
    for (const event of pulled.events) {
      if (event.counted && ++session.counted >= dropAfter) {
        this.#ledger.streamDropped();
        this.#forget(session);
        // Destroyed once this last event is flushed, so the client has it before the connection drops.
        res.write(format(event), () => res.destroy());
        return;
      }
      res.write(format(event));
    }
    if (pulled.done) {
      this.#forget(session);
      res.end();
    }
  }

  #forget(session: Session): void {
    this.#live.delete(session);
    if (this.#live.size === 0) this.#stopTicker();
  }

  #stopTicker(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }
}
