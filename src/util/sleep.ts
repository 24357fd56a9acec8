import { onAbort } from './abort-hub.js';

/**
 * Waits `ms`, or rejects with `signal.reason` as soon as the signal aborts.
 * Uses the global `setTimeout` on purpose (not `timers/promises`), so fake timers drive it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      resolve();
    }, ms);
    const off = signal
      ? onAbort(signal, () => {
          clearTimeout(timer);
          reject(signal.reason);
        })
      : noop;
  });
}

function noop(): void {}
