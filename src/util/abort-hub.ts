/**
 * One `abort` listener per signal, however many requests, sleeps and tasks wait on it. Node warns
 * (`MaxListenersExceededWarning`) past ten listeners on one `AbortSignal`, and a caller's signal may be
 * shared by a thousand tasks; raising the caller's limit would be changing an object that is not ours.
 * @module
 */

interface Hub {
  readonly waiters: Set<() => void>;
  readonly listener: () => void;
}

const hubs = new WeakMap<AbortSignal, Hub>();

/**
 * Calls `callback` once when `signal` aborts (at once if it already has) and returns the function that
 * removes it. The signal's own listener goes away with its last waiter.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) {
    callback();
    return noop;
  }
  let hub = hubs.get(signal);
  if (!hub) {
    const waiters = new Set<() => void>();
    const listener = (): void => {
      hubs.delete(signal);
      for (const waiter of waiters) waiter();
    };
    hub = { waiters, listener };
    hubs.set(signal, hub);
    signal.addEventListener('abort', listener, { once: true });
  }
  // A wrapper per call, so that the same function added twice is removed once per registration.
  const entry = (): void => callback();
  const { waiters, listener } = hub;
  waiters.add(entry);
  return () => {
    if (!waiters.delete(entry) || waiters.size > 0 || hubs.get(signal) !== hub) return;
    hubs.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}

function noop(): void {}

/** `promise`, or a rejection with `signal.reason` as soon as the signal aborts (one hub listener, removed once settled). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const off = onAbort(signal, () => reject(signal.reason));
    promise.then(resolve, reject).finally(off);
  });
}
