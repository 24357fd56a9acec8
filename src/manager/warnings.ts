import type { TaskRef } from '../refs.js';
import type { TaskguardLogger } from './options.js';

/** The same message is warned about at most once in this window, and no more than `MAX_PER_WINDOW` in all. */
const WINDOW_MS = 60_000;
const MAX_PER_WINDOW = 20;

/**
 * Process warnings are one stream for the whole process, so their limit is too: however many managers,
 * the same message at most once a minute. Real time, not a manager's clock: the limit protects stderr.
 */
const processWide = { lastWarned: new Map<string, number>(), windowStart: Number.NEGATIVE_INFINITY, inWindow: 0, suppressed: 0 };

/**
 * Where an `error` event goes when nobody listens: the `logger` option, or else `process.emitWarning`
 * with the name `TaskguardWarning`. eventemitter3, unlike Node's EventEmitter, drops an unheard `error`
 * event without a trace; a failing store or a lost lease must not vanish so. Process warnings are
 * rate-limited (a thousand tasks whose polls fail must not flood stderr); a logger gets everything.
 */
export class WarningSink {
  readonly #logger: TaskguardLogger | undefined;

  constructor(logger: TaskguardLogger | undefined) {
    this.#logger = logger;
  }

  report(error: unknown, ref: TaskRef | undefined): void {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const message = `taskguard: ${ref ? `${ref.kind}:${ref.id}: ` : ''}${detail}`;
    // pino's convention (an object, then the message); console prints both.
    if (this.#logger) return void this.#logger.warn(ref ? { err: error, ref } : { err: error }, message);
    const now = Date.now();
    if (now - processWide.windowStart >= WINDOW_MS) {
      processWide.windowStart = now;
      processWide.inWindow = 0;
      for (const [key, at] of processWide.lastWarned) if (now - at >= WINDOW_MS) processWide.lastWarned.delete(key);
    }
    const last = processWide.lastWarned.get(message);
    if ((last !== undefined && now - last < WINDOW_MS) || processWide.inWindow >= MAX_PER_WINDOW) {
      processWide.suppressed++;
      return;
    }
    processWide.lastWarned.set(message, now);
    processWide.inWindow++;
    const { suppressed } = processWide;
    processWide.suppressed = 0;
    const note = suppressed > 0 ? ` (${suppressed} similar warnings suppressed before this one; listen for 'error' or pass a logger to see them all)` : '';
    process.emitWarning(`${message}${note}`, { type: 'TaskguardWarning', detail: 'Listen for the manager\'s "error" event or pass { logger } to handle these.' });
  }
}
