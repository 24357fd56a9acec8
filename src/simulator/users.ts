/**
 * Keys and the users behind them. A user ID (`sim-user-<n>`) stands for a key in every body, so no
 * response ever echoes a key.
 * @module
 */
import type { SimulatorConfig } from './options.js';
import type { Api } from './routes.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** Which keys each API accepts, and whose they are. */
export class Users {
  readonly #ids = new Map<string, string>();
  readonly #keys: Readonly<Record<Api, ReadonlySet<string>>>;

  constructor(config: SimulatorConfig) {
    this.#keys = {
      agent: new Set([config.agentKey, ...config.extraAgentKeys]),
      cloud: new Set([config.cloudKey, ...config.extraCloudKeys]),
    };
    for (const key of [config.agentKey, config.cloudKey, ...config.extraAgentKeys, ...config.extraCloudKeys]) this.idOf(key);
  }

  /** The user a key belongs to; a key never seen before becomes a new user. */
  idOf(key: string): string {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = `sim-user-${this.#ids.size + 1}`;
      this.#ids.set(key, id);
    }
    return id;
  }

  /** The user of an `Authorization: Bearer <key>` header, if `api` accepts that key. */
  authenticate(api: Api, header: string | undefined): string | undefined {
    const key = header === undefined ? undefined : BEARER.exec(header)?.[1];
    return key !== undefined && this.#keys[api].has(key) ? this.idOf(key) : undefined;
  }
}
