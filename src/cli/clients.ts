/**
 * Clients from the environment: keys only from `BLACKBOX_API_KEY` / `BLACKBOX_CLOUD_API_KEY`, the base
 * URL from `--base-url` or `TASKGUARD_BASE_URL` (one URL serving both APIs), else each API's real one.
 * @module
 */
import { AgentClient } from '../clients/agent.js';
import { CloudClient } from '../clients/cloud.js';
import { checkBaseUrl, type ClientOptions } from '../clients/options.js';
import { ValidationError } from '../errors/classes.js';
import type { TaskRef } from '../refs.js';
import type { CliContext } from './context.js';
import { AGENT_KEY_ENV, BASE_URL_ENV, CLOUD_KEY_ENV, envValue } from './env.js';
import { UsageError } from './errors.js';

/** The options every API command takes. */
export interface ApiCommandOptions {
  readonly json?: boolean | undefined;
  readonly baseUrl?: string | undefined;
}

/** The clients a command needs, by kind. */
export interface Clients {
  readonly agent?: AgentClient;
  readonly cloud?: CloudClient;
}

/** The base URL to use, checked, or `undefined` for each API's default. */
export function baseUrlOf(context: CliContext, options: ApiCommandOptions): string | undefined {
  const fromOption = options.baseUrl !== undefined;
  const value = options.baseUrl ?? envValue(context.env, BASE_URL_ENV);
  if (value === undefined) return undefined;
  // The clients' own rule, named after where the value came from: the CLI has no allowInsecureHttp.
  return build(() => checkBaseUrl(value, { name: fromOption ? '--base-url' : BASE_URL_ENV }));
}

/** An Agent API client; refuses (exit 2) when `BLACKBOX_API_KEY` is not set. */
export function agentClient(context: CliContext, options: ApiCommandOptions): AgentClient {
  const apiKey = requireKey(context, AGENT_KEY_ENV, 'Agent API (agent runs)');
  return build(() => new AgentClient(clientOptions(apiKey, baseUrlOf(context, options))));
}

/** A Cloud API client; refuses (exit 2) when `BLACKBOX_CLOUD_API_KEY` is not set. */
export function cloudClient(context: CliContext, options: ApiCommandOptions): CloudClient {
  const apiKey = requireKey(context, CLOUD_KEY_ENV, 'Cloud API (cloud tasks)');
  return build(() => new CloudClient(clientOptions(apiKey, baseUrlOf(context, options))));
}

/** The clients for the kinds among `refs`; every missing key is reported before any request. */
export function clientsFor(context: CliContext, refs: readonly TaskRef[], options: ApiCommandOptions): Clients {
  return clientsOfKinds(context, new Set(refs.map((ref) => ref.kind)), options);
}

/** The clients of `kinds`; every missing key is reported before any request. */
export function clientsOfKinds(context: CliContext, kinds: ReadonlySet<string>, options: ApiCommandOptions): Clients {
  const missing = [...kinds]
    .map((kind) => (kind === 'agent' ? AGENT_KEY_ENV : CLOUD_KEY_ENV))
    .filter((name) => envValue(context.env, name) === undefined);
  if (missing.length > 1) throw new UsageError(`${missing.join(' and ')} are not set: taskguard reads API keys only from the environment`);
  return {
    ...(kinds.has('agent') && { agent: agentClient(context, options) }),
    ...(kinds.has('cloud') && { cloud: cloudClient(context, options) }),
  };
}

function requireKey(context: CliContext, name: string, api: string): string {
  const key = envValue(context.env, name);
  if (key === undefined) throw new UsageError(`${name} is not set: taskguard reads the ${api} key only from the environment (export ${name}=…)`);
  return key;
}

function clientOptions(apiKey: string, baseUrl: string | undefined): ClientOptions {
  return baseUrl === undefined ? { apiKey } : { apiKey, baseUrl };
}

/** A client whose options are refused (an http: URL to a remote host, a malformed key) is a usage error. */
function build<T>(make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}
