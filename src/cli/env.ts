/**
 * The environment variables the CLI reads. Keys come only from here, never from arguments.
 * @module
 */

/** The Agent API key. */
export const AGENT_KEY_ENV = 'BLACKBOX_API_KEY';
/** The Cloud API key. */
export const CLOUD_KEY_ENV = 'BLACKBOX_CLOUD_API_KEY';
/** A base URL serving both APIs (such as the simulator's); `--base-url` overrides it. */
export const BASE_URL_ENV = 'TASKGUARD_BASE_URL';

/** The redis:// URL of a fleet's registry for `fleet` (`--redis` overrides it); a password stays out of the shell history. */
export const REDIS_URL_ENV = 'TASKGUARD_REDIS_URL';

/** The environment as the CLI sees it (injectable for tests). */
export type Env = Readonly<Record<string, string | undefined>>;

/** A variable's value, with an empty string counted as unset. */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Whether ANSI colours may be written to `stream`: a terminal, no `NO_COLOR`, and not `TERM=dumb`. */
export function colorAllowed(stream: { readonly isTTY?: boolean | undefined }, env: Env): boolean {
  return stream.isTTY === true && envValue(env, 'NO_COLOR') === undefined && env['TERM'] !== 'dumb';
}
