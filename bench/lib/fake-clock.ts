/** A `@sinonjs/fake-timers` clock, and the `Clock` adapter a `TaskManager` takes. */
import FakeTimers from '@sinonjs/fake-timers';
import type { Clock } from '../../src/index.js';

export interface FakeClock {
  /** Drives time: `tick`, `next`, `countTimers`, `now`. */
  readonly fake: FakeTimers.Clock;
  /** What the manager is given. */
  readonly clock: Clock;
}

export function fakeClock(start = 1_700_000_000_000): FakeClock {
  // loopLimit: a tick may fire this many timers; the scheduler arms one at a time, so it never gets close.
  const fake = FakeTimers.createClock(start, 10_000_000);
  return {
    fake,
    clock: {
      now: () => fake.now,
      setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
      clearTimeout: (handle) => fake.clearTimeout(handle as FakeTimers.TimerId),
    },
  };
}
