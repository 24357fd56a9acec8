/**
 * Fault injection: which authenticated API request misbehaves, and how. Decisions come from the seeded
 * {@link Random}, exactly one draw per request whatever the rates, so the same seed and the same request
 * order give the same faults even after `setFaults` changes the rates.
 * @module
 */
import type { Reply } from './http.js';
import type { InjectedFault } from './ledger.js';
import { mergeFaults, NO_FAULTS, type ResolvedSimulatorFaults, type SimulatorFaults } from './options.js';
import type { Random } from './random.js';
import { TokenBucket } from './rate-limit.js';

/** The page a proxy in front of an API serves when the API is down. */
export const BAD_GATEWAY_HTML =
  '<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n' +
  '<hr><center>nginx</center>\n</body>\n</html>\n';

/** A fault picked for one request; `reply` is its JSON answer for the kinds that have one (429, 500). */
export interface Fault {
  readonly kind: InjectedFault;
  readonly reply?: Reply;
}

/** The current faults, the dice and the rate limit's bucket. */
export class FaultPlan {
  readonly #random: Random;
  #faults: ResolvedSimulatorFaults;
  #bucket: TokenBucket | undefined;

  constructor(random: Random, initial: SimulatorFaults) {
    this.#random = random;
    this.#faults = NO_FAULTS;
    this.set(initial);
  }

  get current(): ResolvedSimulatorFaults {
    return this.#faults;
  }

  /** Merges `patch` into the current faults; an invalid field throws and changes nothing. A given `rateLimit` starts a full bucket. */
  set(patch: SimulatorFaults): void {
    this.#faults = mergeFaults(this.#faults, patch);
    if (patch.rateLimit !== undefined) this.#bucket = this.#faults.rateLimit === null ? undefined : new TokenBucket(this.#faults.rateLimit);
  }

  clear(): void {
    this.#faults = NO_FAULTS;
    this.#bucket = undefined;
  }

  /**
   * The fault for a request that arrives while `inFlight` requests (itself included) are open, or
   * `undefined` to serve it. The concurrency limit wins over the rate limit, and both over the dice;
   * the dice are rolled anyway. `now` is read only when a rate limit is in force.
   */
  decide(inFlight: number, now: () => number): Fault | undefined {
    const roll = this.#random.next();
    const f = this.#faults;
    if (inFlight > f.maxConcurrent) return { kind: 'maxConcurrent', reply: tooManyRequests(f.retryAfterSeconds) };
    const waitSeconds = this.#bucket?.take(now()) ?? 0;
    if (waitSeconds > 0) return { kind: 'rateLimit', reply: tooManyRequests(waitSeconds) };
    const kinds: readonly [InjectedFault, number][] = [
      ['reset', f.resetRate],
      ['hang', f.hangRate],
      ['rate429', f.rate429],
      ['htmlError', f.htmlErrorRate],
      ['error', f.errorRate],
      ['lostAnswer', f.lostAnswerRate],
    ];
    let edge = 0;
    for (const [kind, rate] of kinds) {
      edge += rate;
      if (roll < edge) return faultOf(kind, f);
    }
    return undefined;
  }
}

function faultOf(kind: InjectedFault, faults: ResolvedSimulatorFaults): Fault {
  if (kind === 'rate429') return { kind, reply: tooManyRequests(faults.retryAfterSeconds) };
  if (kind === 'error') return { kind, reply: { statusCode: 500, body: { error: 'Internal server error' } } };
  return { kind };
}

function tooManyRequests(retryAfterSeconds: number): Reply {
  return { statusCode: 429, body: { error: 'Too many requests' }, headers: { 'retry-after': String(retryAfterSeconds) } };
}
