/**
 * Fault injection: which authenticated API request misbehaves, and how. Decisions come from the seeded
 * {@link Random}, exactly one draw per request whatever the rates, so the same seed and the same request
 * order give the same faults even after `setFaults` changes the rates.
 * @module
 */
import type { Reply } from './http.js';
import type { SimulatorFaultKind } from './ledger.js';
import { mergeFaults, NO_FAULTS, type ResolvedSimulatorFaults, type SimulatorFaults } from './options.js';
import type { Random } from './random.js';

/** The page a proxy in front of an API serves when the API is down. */
export const BAD_GATEWAY_HTML =
  '<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n' +
  '<hr><center>nginx</center>\n</body>\n</html>\n';

/** The current faults and the dice. */
export class FaultPlan {
  readonly #random: Random;
  #faults: ResolvedSimulatorFaults;

  constructor(random: Random, initial: SimulatorFaults) {
    this.#random = random;
    this.#faults = mergeFaults(NO_FAULTS, initial);
  }

  get current(): ResolvedSimulatorFaults {
    return this.#faults;
  }

  /** Merges `patch` into the current faults; an invalid field throws and changes nothing. */
  set(patch: SimulatorFaults): void {
    this.#faults = mergeFaults(this.#faults, patch);
  }

  clear(): void {
    this.#faults = NO_FAULTS;
  }

  /**
   * The fault for a request that arrives while `inFlight` requests (itself included) are open, or
   * `undefined` to serve it. The concurrency limit wins over the dice; the dice are rolled anyway.
   */
  decide(inFlight: number): SimulatorFaultKind | undefined {
    const roll = this.#random.next();
    const f = this.#faults;
    if (inFlight > f.maxConcurrent) return 'maxConcurrent';
    const kinds: readonly [SimulatorFaultKind, number][] = [
      ['reset', f.resetRate],
      ['hang', f.hangRate],
      ['rate429', f.rate429],
      ['htmlError', f.htmlErrorRate],
      ['error', f.errorRate],
    ];
    let edge = 0;
    for (const [kind, rate] of kinds) {
      edge += rate;
      if (roll < edge) return kind;
    }
    return undefined;
  }

  /** The JSON answer of a 429 or 500 fault. */
  reply(kind: 'rate429' | 'maxConcurrent' | 'error'): Reply {
    if (kind === 'error') return { statusCode: 500, body: { error: 'Internal server error' } };
    return { statusCode: 429, body: { error: 'Too many requests' }, headers: { 'retry-after': String(this.#faults.retryAfterSeconds) } };
  }
}
