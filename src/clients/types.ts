/**
 * Wire types of the two BLACKBOX task APIs (SPEC section 2). Shared by the clients and the simulator;
 * nothing here knows about tracking.
 *
 * Status unions list the documented words and stay open (`string & {}`) because the servers may add
 * words: code that switches on them must have a default branch.
 * @module
 */

/** A string that is one of the known words `T`, or any other string the server may send. */
export type OpenString<T extends string> = T | (string & {});

/** Status words of the Agent API. The status endpoint says `pending`/`in_progress`, the others `queued`/`running`. */
export type AgentRunStatus = OpenString<
  'pending' | 'queued' | 'in_progress' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted'
>;

/** The agents the Agent API can run. */
export type AgentName = OpenString<'claude' | 'codex'>;

/** Body of `POST /api/v1/tasks`. `prompt` and its alias `message`: one of the two is required. */
export interface AgentCreateTaskBody {
  /** The instruction for the agent. */
  readonly prompt?: string;
  /** Alias of `prompt`. */
  readonly message?: string;
  /** Model identifier. */
  readonly model?: string;
  /** Which agent runs the task. */
  readonly agent?: AgentName;
  /** Task type, passed through. */
  readonly type?: string;
  /** Repository the agent works on. */
  readonly repoUrl?: string;
  /** Branch of `repoUrl`. */
  readonly selectedBranch?: string;
}

/** Response of `POST /api/v1/tasks`. */
export interface AgentCreateTaskResponse {
  readonly taskId: string;
  readonly runId: string;
  readonly assistantMessageId: string;
  readonly chatId: string;
  readonly agentCount: number;
}

/** Query of `GET /api/v1/tasks`. */
export interface AgentListTasksQuery {
  /** Page number, from 1. */
  readonly page?: number;
  /** Page size, 1–100. */
  readonly limit?: number;
  /** Only runs in this status. */
  readonly status?: AgentRunStatus;
}

/** One entry of the Agent API's task list. */
export interface AgentTaskSummary {
  readonly taskId: string;
  readonly runId: string;
  readonly chatId: string;
  readonly status: AgentRunStatus;
  readonly model: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly assistantMessageId: string;
}

/** Response of `GET /api/v1/tasks`. */
export interface AgentListTasksResponse {
  readonly tasks: readonly AgentTaskSummary[];
  readonly page: number;
  readonly limit: number;
  readonly hasMore: boolean;
}

/** A message of a run's conversation. */
export interface AgentMessage {
  readonly id?: string;
  readonly role?: string;
  readonly content?: unknown;
  readonly [key: string]: unknown;
}

/** Response of `GET /api/v1/tasks/{runId}`. */
export interface AgentTaskDetail {
  readonly taskId: string;
  readonly runId: string;
  readonly chatId: string;
  readonly status: AgentRunStatus;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
  readonly error: string | null;
  readonly messages: readonly AgentMessage[];
  readonly [key: string]: unknown;
}

/** Response of `GET /api/v1/tasks/{runId}/status`. */
export interface AgentStatusResponse {
  readonly runId: string;
  readonly status: AgentRunStatus;
  readonly progress: unknown;
  readonly error: string | null;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
}

/** Body of `PATCH /api/v1/tasks/{runId}`: at least one field; `action` wins over `title`. */
export interface AgentUpdateBody {
  /** The only action there is. */
  readonly action?: 'cancel';
  /** New title, 1–200 characters. */
  readonly title?: string;
}

/** Response of `PATCH /api/v1/tasks/{runId}`. */
export interface AgentUpdateResponse {
  readonly success: boolean;
  readonly status: AgentRunStatus;
  readonly message: string;
}

/** Body of `POST /api/v1/tasks/{runId}/continue`. */
export interface AgentContinueBody {
  readonly prompt: string;
  readonly model?: string;
  readonly agent?: AgentName;
}

/** Response of `POST /api/v1/tasks/{runId}/continue`: `runId` is a new run. */
export interface AgentContinueResponse {
  readonly runId: string;
  readonly assistantMessageId: string;
  readonly chatId: string;
  readonly previousRunId: string;
}

/** Status words of the Cloud API. Rely on `isDone`/`inProgress` of the status endpoint. */
export type CloudTaskStatus = OpenString<
  'pending' | 'processing' | 'saving' | 'completed' | 'error' | 'stopped' | 'timeout'
>;

/** The `status` filter of the Cloud API's task list. */
export type CloudListStatusFilter = OpenString<'active' | 'completed' | 'failed' | 'stopped'>;

/** Body of `POST /api/tasks`. */
export interface CloudCreateTaskBody {
  readonly prompt: string;
  readonly repoUrl?: string;
  readonly selectedBranch?: string;
  readonly selectedAgent?: string;
  readonly selectedModel?: string;
}

/** A Cloud API task. Fields beyond `id` and `status` vary by endpoint. */
export interface CloudTask {
  readonly id: string;
  readonly status: CloudTaskStatus;
  readonly userId?: string;
  readonly prompt?: string;
  readonly error?: string | null;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly completedAt?: string | null;
  readonly [key: string]: unknown;
}

/** Response of `POST /api/tasks` and `GET /api/tasks/{taskId}`. */
export interface CloudTaskResponse {
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
  readonly tasks: readonly CloudTask[];
  readonly hasMore: boolean;
  readonly offset: number;
  readonly limit: number;
}

/** Response of `GET /api/tasks/{taskId}/status`. */
export interface CloudStatusResponse {
  readonly taskId: string;
  readonly status: CloudTaskStatus;
  readonly progress: unknown;
  readonly inProgress: boolean;
  readonly isDone: boolean;
  readonly error: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt: string | null;
  /** Elapsed time such as `"900s"`. */
  readonly duration: string | null;
}

/** Response of `PATCH /api/tasks/{taskId}` with `{action: "stop"}`. */
export interface CloudStopResponse {
  readonly message: string;
  readonly task: CloudTask;
}

/** Body of `POST /api/tasks/{taskId}/continue`. */
export interface CloudContinueBody {
  readonly currentPrompt: string;
  readonly selectedAgent?: string;
  readonly selectedModel?: string;
}

/** Response of `POST /api/tasks/{taskId}/continue`. */
export interface CloudContinueResponse {
  readonly success: boolean;
  readonly message: string;
}
