import { RequestCore, type RequestOptions } from './core.js';
import type { ClientOptions } from './options.js';
import type {
  CloudContinueBody,
  CloudContinueResponse,
  CloudCreateTaskBody,
  CloudListTasksQuery,
  CloudListTasksResponse,
  CloudStatusResponse,
  CloudStopResponse,
  CloudTaskResponse,
} from './types.js';
import { checkBody, intParam, pathId, requiredText } from './validate.js';

const CLOUD_API = { name: 'CloudClient', envVar: 'BLACKBOX_CLOUD_API_KEY', defaultBaseUrl: 'https://cloud.blackbox.ai' } as const;

/**
 * Client of the BLACKBOX Cloud API (tasks). Same guarantees as {@link AgentClient}.
 *
 * @example
 * ```ts
 * import { CloudClient } from 'taskguard';
 *
 * const cloud = new CloudClient(); // key from BLACKBOX_CLOUD_API_KEY
 * const { task } = await cloud.createTask({ prompt: 'Fix the flaky test' });
 * const { status, isDone } = await cloud.getStatus(task.id);
 * // A stop is accepted only while the task is processing or saving (else a BadRequestError).
 * if (!isDone && (status === 'processing' || status === 'saving')) await cloud.stop(task.id);
 * ```
 */
export class CloudClient {
  readonly #core: RequestCore;

  /**
   * Creates a client; nothing is sent. Throws a `ValidationError` when there is no key (neither
   * `apiKey` nor `BLACKBOX_CLOUD_API_KEY`), and a `TypeError` or `RangeError` naming any other invalid
   * option.
   */
  constructor(options: ClientOptions = {}) {
    this.#core = new RequestCore(options, CLOUD_API);
  }

  /** The base URL requests go to. */
  get baseUrl(): string {
    return this.#core.baseUrl;
  }

  /** The cap on how long a server's `Retry-After` can make this client (or a manager polling through it) wait, in milliseconds. */
  get maxRetryAfterMs(): number {
    return this.#core.maxRetryAfterMs;
  }

  /** Starts a task; it begins `pending`. */
  async createTask(body: CloudCreateTaskBody, options?: RequestOptions): Promise<CloudTaskResponse> {
    checkBody(body, 'body');
    requiredText(body.prompt, 'prompt');
    return this.#core.request({ method: 'POST', path: 'api/tasks', json: body }, options);
  }

  /** Lists tasks. `limit` is 1–100; `status` one of `active`, `completed`, `failed`, `stopped`. */
  async listTasks(query: CloudListTasksQuery = {}, options?: RequestOptions): Promise<CloudListTasksResponse> {
    const searchParams = {
      limit: intParam(query.limit, 'limit', 1, 100),
      offset: intParam(query.offset, 'offset', 0),
      status: query.status,
    };
    return this.#core.request({ method: 'GET', path: 'api/tasks', searchParams }, options);
  }

  /** One task. */
  async getTask(taskId: string, options?: RequestOptions): Promise<CloudTaskResponse> {
    return this.#core.request({ method: 'GET', path: `api/tasks/${pathId(taskId, 'taskId')}` }, options);
  }

  /** A task's status, with `isDone` and `inProgress`. */
  async getStatus(taskId: string, options?: RequestOptions): Promise<CloudStatusResponse> {
    return this.#core.request({ method: 'GET', path: `api/tasks/${pathId(taskId, 'taskId')}/status` }, options);
  }

  /**
   * Stops a task (irreversible). Works only while it is `processing` or `saving`: otherwise the API
   * answers 400, a `BadRequestError`.
   */
  async stop(taskId: string, options?: RequestOptions): Promise<CloudStopResponse> {
    return this.#core.request({ method: 'PATCH', path: `api/tasks/${pathId(taskId, 'taskId')}`, json: { action: 'stop' } }, options);
  }

  /** Continues a task with a follow-up prompt. */
  async continueTask(taskId: string, body: CloudContinueBody, options?: RequestOptions): Promise<CloudContinueResponse> {
    const path = `api/tasks/${pathId(taskId, 'taskId')}/continue`;
    checkBody(body, 'body');
    requiredText(body.currentPrompt, 'currentPrompt');
    return this.#core.request({ method: 'POST', path, json: body }, options);
  }
}
