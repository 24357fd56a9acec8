/**
 * Wire types of the BLACKBOX Cloud API's task endpoints (SPEC section 2): bodies, queries and responses,
 * shared by the cloud client and the simulator. Nothing here knows about tracking.
 * @module
 */
import type { OpenString } from './open-string.js';

/** Status words of the Cloud API. Rely on `isDone`/`inProgress` of the status endpoint. */
export type CloudTaskStatus = OpenString<
  'pending' | 'processing' | 'saving' | 'completed' | 'error' | 'stopped' | 'timeout'
>;

/** The `status` filter of the Cloud API's task list. */
export type CloudListStatusFilter = OpenString<'active' | 'completed' | 'failed' | 'stopped'>;

/** Body of `POST /api/tasks`. */
export interface CloudCreateTaskBody {
  /** The instruction for the agent. */
  readonly prompt: string;
  /** Repository the task works on. */
  readonly repoUrl?: string;
  /** Branch of `repoUrl`. */
  readonly selectedBranch?: string;
  /** Which agent runs the task. */
  readonly selectedAgent?: string;
  /** Model identifier. */
  readonly selectedModel?: string;
}

/** A Cloud API task. Fields beyond `id` and `status` vary by endpoint. */
export interface CloudTask {
  /** The task's ID: what `getStatus`, `stop` and a `TaskRef` of kind `cloud` take. */
  readonly id: string;
  /** The task's status (`pending`, `processing`, `saving`, `completed`, …). */
  readonly status: CloudTaskStatus;
  /** The user who owns it. */
  readonly userId?: string;
  /** Its prompt. */
  readonly prompt?: string;
  /** Why it failed, `null` otherwise. */
  readonly error?: string | null;
  /** When it was created (ISO 8601). */
  readonly createdAt?: string;
  /** When its status last changed (ISO 8601). */
  readonly updatedAt?: string;
  /** When it ended (ISO 8601), `null` while it is live. */
  readonly completedAt?: string | null;
  readonly [key: string]: unknown;
}

/** Response of `POST /api/tasks` and `GET /api/tasks/{taskId}`. */
export interface CloudTaskResponse {
  /** The task. */
  readonly task: CloudTask;
}

/** Query of `GET /api/tasks`. */
export interface CloudListTasksQuery {
  /** Page size, 1–100. */
  readonly limit?: number;
  /** Number of tasks to skip. */
  readonly offset?: number;
  /** Only tasks in this group. */
  readonly status?: CloudListStatusFilter;
}

/** Response of `GET /api/tasks`. */
export interface CloudListTasksResponse {
  /** The tasks of this page. */
  readonly tasks: readonly CloudTask[];
  /** Whether more tasks follow. */
  readonly hasMore: boolean;
  /** How many tasks were skipped. */
  readonly offset: number;
  /** The page size. */
  readonly limit: number;
}

/** Response of `GET /api/tasks/{taskId}/status`. */
export interface CloudStatusResponse {
  /** The task's ID. */
  readonly taskId: string;
  /** The task's status word; `isDone` and `inProgress` are the signals to rely on. */
  readonly status: CloudTaskStatus;
  /** How far the task has got, as the API reports it. */
  readonly progress: unknown;
  /** Whether the task is still live (pending, processing or saving). */
  readonly inProgress: boolean;
  /** Whether the task has ended, whichever way. */
  readonly isDone: boolean;
  /** Why it failed, `null` otherwise. */
  readonly error: string | null;
  /** When it was created (ISO 8601). */
  readonly createdAt: string;
  /** When its status last changed (ISO 8601). */
  readonly updatedAt: string;
  /** When it ended (ISO 8601), `null` while it is live. */
  readonly completedAt: string | null;
  /** Elapsed time such as `"900s"`. */
  readonly duration: string | null;
}

/** Response of `PATCH /api/tasks/{taskId}` with `{action: "stop"}`. */
export interface CloudStopResponse {
  /** The API's description of what it did. */
  readonly message: string;
  /** The task after the stop. */
  readonly task: CloudTask;
}

/** Body of `POST /api/tasks/{taskId}/continue`. */
export interface CloudContinueBody {
  /** The follow-up instruction. */
  readonly currentPrompt: string;
  /** Which agent runs the follow-up. */
  readonly selectedAgent?: string;
  /** Model identifier. */
  readonly selectedModel?: string;
}

/** Response of `POST /api/tasks/{taskId}/continue`. */
export interface CloudContinueResponse {
  /** Whether the task was continued. */
  readonly success: boolean;
  /** The API's description of what it did. */
  readonly message: string;
}
