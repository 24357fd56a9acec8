import { ValidationError } from '../errors/classes.js';
import type { AgentGetLogsOptions, AgentLogEvent, AgentLogsResponse, AgentStreamLogsOptions } from './agent-log-types.js';
import type {
  AgentContinueBody,
  AgentContinueResponse,
  AgentCreateTaskBody,
  AgentCreateTaskResponse,
  AgentListTasksQuery,
  AgentListTasksResponse,
  AgentStatusResponse,
  AgentTaskDetail,
  AgentUpdateBody,
  AgentUpdateResponse,
} from './agent-types.js';
import { RequestCore } from './core.js';
import type { ClientOptions } from './options.js';
import type { RequestOptions } from './request-types.js';
import { agentLogStream, streamPolicy, type StreamPolicy } from './sse.js';
import { boolParam, checkBody, checkTitle, intParam, pathId, requiredText } from './validate.js';

const AGENT_API = { name: 'AgentClient', envVar: 'BLACKBOX_API_KEY', defaultBaseUrl: 'https://agent.blackbox.ai', kind: 'agent' } as const;

/**
 * Client of the BLACKBOX Agent API (runs). Every method validates its input first (a `ValidationError`,
 * no request), retries transient failures, and maps every other failure to a typed `ApiError`.
 *
 * @example
 * ```ts
 * import { AgentClient } from 'taskguard';
 *
 * const agent = new AgentClient(); // key from BLACKBOX_API_KEY
 * const { runId } = await agent.createTask({ prompt: 'Add a CHANGELOG', agent: 'claude' });
 * const { status } = await agent.getStatus(runId); // 'pending', 'in_progress', 'completed', …
 * if (status === 'pending' || status === 'in_progress') await agent.cancel(runId);
 * ```
 */
export class AgentClient {
  readonly #core: RequestCore;
  readonly #streams: StreamPolicy;

  /**
   * Creates a client; nothing is sent. Throws a `ValidationError` when there is no key (neither
   * `apiKey` nor `BLACKBOX_API_KEY`), and a `TypeError` or `RangeError` naming any other invalid option.
   */
  constructor(options: ClientOptions = {}) {
    this.#core = new RequestCore(options, AGENT_API);
    this.#streams = streamPolicy(options, AGENT_API);
  }

  /** The base URL requests go to. */
  get baseUrl(): string {
    return this.#core.baseUrl;
  }

  /** The cap on how long a server's `Retry-After` can make this client (or a manager polling through it) wait, in milliseconds. */
  get maxRetryAfterMs(): number {
    return this.#core.maxRetryAfterMs;
  }

  /** Starts a run. `prompt` (or its alias `message`) is required. */
  async createTask(body: AgentCreateTaskBody, options?: RequestOptions): Promise<AgentCreateTaskResponse> {
    checkBody(body, 'body');
    requiredText(body.prompt ?? body.message, 'prompt (or message)');
    return this.#core.request({ method: 'POST', path: 'api/v1/tasks', json: body, operation: 'create' }, options);
  }

  /** Lists runs, newest first. `limit` is 1–100. */
  async listTasks(query: AgentListTasksQuery = {}, options?: RequestOptions): Promise<AgentListTasksResponse> {
    const searchParams = {
      page: intParam(query.page, 'page', 1),
      limit: intParam(query.limit, 'limit', 1, 100),
      status: query.status,
    };
    return this.#core.request({ method: 'GET', path: 'api/v1/tasks', searchParams, operation: 'list' }, options);
  }

  /** A run with its messages. */
  async getTask(runId: string, options?: RequestOptions): Promise<AgentTaskDetail> {
    return this.#core.request({ method: 'GET', path: `api/v1/tasks/${pathId(runId, 'runId')}`, operation: 'get' }, options);
  }

  /** A run's status (`pending`/`in_progress` while it runs). */
  async getStatus(runId: string, options?: RequestOptions): Promise<AgentStatusResponse> {
    return this.#core.request({ method: 'GET', path: `api/v1/tasks/${pathId(runId, 'runId')}/status`, operation: 'status' }, options);
  }

  /** Cancels a run: its agent process is terminated and the run becomes `cancelled`. */
  async cancel(runId: string, options?: RequestOptions): Promise<AgentUpdateResponse> {
    return this.update(runId, { action: 'cancel' }, options);
  }

  /** Sets a run's title (1–200 characters). */
  async rename(runId: string, title: string, options?: RequestOptions): Promise<AgentUpdateResponse> {
    return this.update(runId, { title }, options);
  }

  /** Cancels and/or renames a run; when both are given the cancel takes precedence. */
  async update(runId: string, body: AgentUpdateBody, options?: RequestOptions): Promise<AgentUpdateResponse> {
    const path = `api/v1/tasks/${pathId(runId, 'runId')}`;
    checkBody(body, 'body');
    if (body.action === undefined && body.title === undefined) throw new ValidationError('update needs an action or a title');
    if (body.action !== undefined && body.action !== 'cancel') {
      throw new ValidationError(`action must be "cancel", got ${JSON.stringify(body.action)}`);
    }
    if (body.title !== undefined) checkTitle(body.title);
    return this.#core.request({ method: 'PATCH', path, json: body, operation: body.action === 'cancel' ? 'cancel' : 'rename' }, options);
  }

  /** Continues a run's conversation with a new prompt; the answer names the NEW run. */
  async continueTask(runId: string, body: AgentContinueBody, options?: RequestOptions): Promise<AgentContinueResponse> {
    const path = `api/v1/tasks/${pathId(runId, 'runId')}/continue`;
    checkBody(body, 'body');
    requiredText(body.prompt, 'prompt');
    return this.#core.request({ method: 'POST', path, json: body, operation: 'continue' }, options);
  }

  /** A snapshot of a run's log: its events so far (all of them once it has ended). */
  async getLogs(runId: string, options: AgentGetLogsOptions = {}): Promise<AgentLogsResponse> {
    const path = `api/v1/tasks/${pathId(runId, 'runId')}/logs`;
    const searchParams = { includeDeltas: boolParam(options.includeDeltas, 'includeDeltas'), raw: boolParam(options.raw, 'raw') };
    return this.#core.request({ method: 'GET', path, searchParams, operation: 'logs' }, options);
  }

  /**
   * A run's log as it happens (Server-Sent Events): each event's parsed `data`, ending with `finish`. A
   * run that has ended replays all its events at once. Bad input throws a `ValidationError` at once;
   * otherwise nothing is sent until a loop starts, and each loop is a stream of its own. Leaving the loop
   * early or aborting `signal` closes the connection. Errors of the request (401, 404, …) reject the loop
   * with the typed error, after the retries a transient one gets before the first event; an event that is
   * not a JSON object with a `type` rejects it with an `InvalidResponseError`; a connection that drops
   * after the first event rejects it with a `ConnectionError` (the Agent API cannot resume a stream: read
   * the rest with {@link getLogs}).
   *
   * @example
   * ```ts
   * import { AgentClient } from 'taskguard';
   *
   * const agent = new AgentClient();
   * const { runId } = await agent.createTask({ prompt: 'Add a CHANGELOG' });
   * for await (const event of agent.streamLogs(runId, { includeDeltas: true })) {
   *   if (event.type === 'text-delta') process.stdout.write(event.delta);
   *   if (event.type === 'finish') console.log(`\n${event.status}`);
   * }
   * ```
   */
  streamLogs(runId: string, options: AgentStreamLogsOptions = {}): AsyncIterable<AgentLogEvent> {
    const path = `api/v1/tasks/${pathId(runId, 'runId')}/logs/stream`;
    const includeDeltas = boolParam(options.includeDeltas, 'includeDeltas');
    return agentLogStream(this.#core, this.#streams, path, includeDeltas, options);
  }
}
