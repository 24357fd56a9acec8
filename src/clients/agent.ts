import { ValidationError } from '../errors/classes.js';
import { RequestCore, type RequestOptions } from './core.js';
import type { ClientOptions } from './options.js';
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
} from './types.js';
import { checkBody, checkTitle, intParam, pathId, requiredText } from './validate.js';

const AGENT_API = { name: 'AgentClient', envVar: 'BLACKBOX_API_KEY', defaultBaseUrl: 'https://agent.blackbox.ai' } as const;

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

  /**
   * Creates a client; nothing is sent. Throws a `ValidationError` when there is no key (neither
   * `apiKey` nor `BLACKBOX_API_KEY`), and a `TypeError` or `RangeError` naming any other invalid option.
   */
  constructor(options: ClientOptions = {}) {
    this.#core = new RequestCore(options, AGENT_API);
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
    return this.#core.request({ method: 'POST', path: 'api/v1/tasks', json: body }, options);
  }

  /** Lists runs, newest first. `limit` is 1–100. */
  async listTasks(query: AgentListTasksQuery = {}, options?: RequestOptions): Promise<AgentListTasksResponse> {
    const searchParams = {
      page: intParam(query.page, 'page', 1),
      limit: intParam(query.limit, 'limit', 1, 100),
      status: query.status,
    };
    return this.#core.request({ method: 'GET', path: 'api/v1/tasks', searchParams }, options);
  }

  /** A run with its messages. */
  async getTask(runId: string, options?: RequestOptions): Promise<AgentTaskDetail> {
    return this.#core.request({ method: 'GET', path: `api/v1/tasks/${pathId(runId, 'runId')}` }, options);
  }

  /** A run's status (`pending`/`in_progress` while it runs). */
  async getStatus(runId: string, options?: RequestOptions): Promise<AgentStatusResponse> {
    return this.#core.request({ method: 'GET', path: `api/v1/tasks/${pathId(runId, 'runId')}/status` }, options);
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
    return this.#core.request({ method: 'PATCH', path, json: body }, options);
  }

  /** Continues a run's conversation with a new prompt; the answer names the NEW run. */
  async continueTask(runId: string, body: AgentContinueBody, options?: RequestOptions): Promise<AgentContinueResponse> {
    const path = `api/v1/tasks/${pathId(runId, 'runId')}/continue`;
    checkBody(body, 'body');
    requiredText(body.prompt, 'prompt');
    return this.#core.request({ method: 'POST', path, json: body }, options);
  }
}
