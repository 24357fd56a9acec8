import type { EventEmitter } from 'eventemitter3';
import type { TaskManagerEvents } from './events.js';
import { rethrowLater } from './helpers.js';
import type { TaskguardLogger } from './options.js';
import { WarningSink } from './warnings.js';

/**
 * How a manager emits its events: a listener's throw must not break the manager's own work, and an
 * `error` event nobody listens to must not vanish.
 * @module
 */

/** Emits one of the manager's events. */
export type Emit = <E extends keyof TaskManagerEvents>(event: E, ...args: TaskManagerEvents[E]) => void;

/**
 * Emits on `emitter` without letting a throwing listener break the manager. The throw goes to the
 * `error` listeners; with none (or one that throws too) it is rethrown outside the manager's own work,
 * as an uncaught exception, the way Node's EventEmitter treats an unhandled error: never swallowed.
 */
export function safeEmitter(emitter: EventEmitter<TaskManagerEvents>, logger: TaskguardLogger | undefined): Emit {
  const warnings = new WarningSink(logger);
  return <E extends keyof TaskManagerEvents>(event: E, ...args: TaskManagerEvents[E]): void => {
    if (event === 'error' && emitter.listenerCount('error') === 0) {
      const [{ error, ref }] = args as TaskManagerEvents['error'];
      return warnings.report(error, ref);
    }
    try {
      (emitter.emit as (event: E, ...args: TaskManagerEvents[E]) => boolean)(event, ...args);
    } catch (error) {
      if (event !== 'error' && emitter.listenerCount('error') > 0) {
        try {
          emitter.emit('error', { error });
          return;
        } catch (listenerError) {
          return rethrowLater(listenerError);
        }
      }
      rethrowLater(error);
    }
  };
}
