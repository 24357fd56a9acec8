import type { CloudStreamEvent, CloudStreamLogsOptions } from './cloud-log-types.js';
import type {
  CloudContinueBody,
  CloudContinueResponse,
  CloudCreateTaskBody,
  CloudListTasksQuery,
  CloudListTasksResponse,
  CloudStatusResponse,
  CloudStopResponse,
  CloudTaskResponse,
} from './cloud-types.js';
import { RequestCore } from './core.js';
import type { ClientOptions } from './options.js';
import type { RequestOptions } from './request-types.js';
import { cloudLogStream, streamPolicy, type StreamPolicy } from './sse.js';
import { boolParam, checkBody, intParam, pathId, requiredText } from './validate.js';

const CLOUD_API = { name: 'CloudClient', envVar: 'BLACKBOX_CLOUD_API_KEY', defaultBaseUrl: 'https://cloud.blackbox.ai', kind: 'cloud' } as const;

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
  readonly #streams: StreamPolicy;

  /**
   * Creates a client; nothing is sent. Throws a `ValidationError` when there is no key (neither
   * `apiKey` nor `BLACKBOX_CLOUD_API_KEY`), and a `TypeError` or `RangeError` naming any other invalid
   * option.
   */
  constructor(options: ClientOptions = {}) {
    this.#core = new RequestCore(options, CLOUD_API);
    this.#streams = streamPolicy(options, CLOUD_API);
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
    return this.#core.request({ method: 'POST', path: 'api/tasks', json: body, operation: 'create' }, options);
  }

  /** Lists tasks. `limit` is 1–100; `status` one of `active`, `completed`, `failed`, `stopped`. */
  async listTasks(query: CloudListTasksQuery = {}, options?: RequestOptions): Promise<CloudListTasksResponse> {
    const searchParams = {
      limit: intParam(query.limit, 'limit', 1, 100),
      offset: intParam(query.offset, 'offset', 0),
      status: query.status,
    };
    return this.#core.request({ method: 'GET', path: 'api/tasks', searchParams, operation: 'list' }, options);
  }

  /** One task. */
  async getTask(taskId: string, options?: RequestOptions): Promise<CloudTaskResponse> {
    return this.#core.request({ method: 'GET', path: `api/tasks/${pathId(taskId, 'taskId')}`, operation: 'get' }, options);
  }

  /** A task's status, with `isDone` and `inProgress`. */
  async getStatus(taskId: string, options?: RequestOptions): Promise<CloudStatusResponse> {
    return this.#core.request({ method: 'GET', path: `api/tasks/${pathId(taskId, 'taskId')}/status`, operation: 'status' }, options);
  }

  /**
   * Stops a task (irreversible). Works only while it is `processing` or `saving`: otherwise the API
   * answers 400, a `BadRequestError`.
   */
  async stop(taskId: string, options?: RequestOptions): Promise<CloudStopResponse> {
    return this.#core.request({ method: 'PATCH', path: `api/tasks/${pathId(taskId, 'taskId')}`, json: { action: 'stop' }, operation: 'cancel' }, options);
  }

  /** Continues a task with a follow-up prompt. */
  async continueTask(taskId: string, body: CloudContinueBody, options?: RequestOptions): Promise<CloudContinueResponse> {
    const path = `api/tasks/${pathId(taskId, 'taskId')}/continue`;
    checkBody(body, 'body');
    requiredText(body.currentPrompt, 'currentPrompt');
    return this.#core.request({ method: 'POST', path, json: body, operation: 'continue' }, options);
  }

  /**
   * A task's log and status as they happen (Server-Sent Events): `{ event, data }` for each event,
   * ending with `complete`. A dropped connection is reopened from the next log index, with the client's
   * backoff, so that no log is repeated or skipped; `retries` bounds the failed attempts in a row between
   * two new logs. Bad input throws a `ValidationError` at once; otherwise nothing is sent until a loop
   * starts, and each loop is a stream of its own, from `fromIndex`. Leaving the loop early or aborting
   * `signal` closes the connection. Errors of the request (401, 404, …) reject the loop with the typed
   * error; an event whose data is not a JSON object rejects it with an `InvalidResponseError`.
   *
   * @example
   * ```ts
   * import { CloudClient } from 'taskguard';
   *
   * const cloud = new CloudClient();
   * const { task } = await cloud.createTask({ prompt: 'Fix the flaky test' });
   * for await (const { event, data } of cloud.streamLogs(task.id)) {
   *   if (event === 'log') console.log(`#${data.index} ${data.log.message}`);
   *   if (event === 'complete') console.log(`${data.status} after ${data.totalLogs} lines`);
   * }
   * ```
   */
  streamLogs(taskId: string, options: CloudStreamLogsOptions = {}): AsyncIterable<CloudStreamEvent> {
    const path = `api/tasks/${pathId(taskId, 'taskId')}/stream`;
    const fromIndex = intParam(options.fromIndex, 'fromIndex', 0) ?? 0;
    const includeStatus = boolParam(options.includeStatus, 'includeStatus');
    return cloudLogStream(this.#core, this.#streams, path, fromIndex, includeStatus, options);
  }
}
