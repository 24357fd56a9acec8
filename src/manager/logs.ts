import type { RequestOptions } from '../clients/request-types.js';
import type { AgentLogEvent } from '../clients/agent-log-types.js';
import type { CloudStreamEvent } from '../clients/cloud-log-types.js';
import { ValidationError } from '../errors/classes.js';
import type { TaskRef } from '../refs.js';
import { checkRefId, describeRef } from './helpers.js';
import type { TaskManagerOptions } from './options.js';

/**
 * The log streams of `TaskManager.logs()`: the client of a ref's kind streams them, and the manager's
 * lifetime bounds them.
 * @module
 */

/** Opens the log streams of one manager's tasks. */
export class LogStreams {
  /** The clients given as `agent` and `cloud`: the log streams are theirs. */
  readonly #clients: Pick<TaskManagerOptions, 'agent' | 'cloud'>;
  /** The manager's lifetime: `close()` ends every stream. */
  readonly #lifetime: AbortSignal;

  constructor(options: TaskManagerOptions, lifetime: AbortSignal) {
    this.#clients = { ...(options.agent ? { agent: options.agent } : {}), ...(options.cloud ? { cloud: options.cloud } : {}) };
    this.#lifetime = lifetime;
  }

  /** What `TaskManager.logs()` does (documented there). */
  open(ref: TaskRef, options: Pick<RequestOptions, 'signal'>): AsyncIterable<AgentLogEvent | CloudStreamEvent> {
    checkRefId(ref);
    const signal = options.signal ? AbortSignal.any([options.signal, this.#lifetime]) : this.#lifetime;
    const { agent, cloud } = this.#clients;
    if (ref.kind === 'agent' && agent) return agent.streamLogs(ref.id, { signal });
    if (ref.kind === 'cloud' && cloud) return cloud.streamLogs(ref.id, { signal });
    throw new ValidationError(`no log stream for ${describeRef(ref)}: logs() needs the ${ref.kind === 'cloud' ? 'cloud' : 'agent'} client of an agent or cloud task`);
  }
}
