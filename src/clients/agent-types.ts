/**
 * Wire types of the BLACKBOX Agent API's task endpoints (SPEC section 2): bodies, queries and responses,
 * shared by the agent client and the simulator. Nothing here knows about tracking.
 * @module
 */
import type { OpenString } from './open-string.js';

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
  /** The task the run belongs to; a continue keeps it. */
  readonly taskId: string;
  /** The new run's ID: what `getStatus`, `cancel` and a `TaskRef` of kind `agent` take. */
  readonly runId: string;
  /** The message the agent's answer is written to. */
  readonly assistantMessageId: string;
  /** The conversation the run belongs to; a continue keeps it. */
  readonly chatId: string;
  /** How many agents the request started. */
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
  /** The task the run belongs to. */
  readonly taskId: string;
  /** The run's ID. */
  readonly runId: string;
  /** The conversation the run belongs to. */
  readonly chatId: string;
  /** The run's status, in the list's words (`queued`, `running`, …). */
  readonly status: AgentRunStatus;
  /** The model it runs on, `null` if none was chosen. */
  readonly model: string | null;
  /** When it was created (ISO 8601). */
  readonly createdAt: string;
  /** When it started running (ISO 8601), `null` while it is queued. */
  readonly startedAt: string | null;
  /** When it ended (ISO 8601), `null` while it is live. */
  readonly completedAt: string | null;
  /** The message the agent's answer is written to. */
  readonly assistantMessageId: string;
}

/** Response of `GET /api/v1/tasks`. */
export interface AgentListTasksResponse {
  /** The runs of this page, newest first. */
  readonly tasks: readonly AgentTaskSummary[];
  /** The page number, from 1. */
  readonly page: number;
  /** The page size. */
  readonly limit: number;
  /** Whether a next page exists. */
  readonly hasMore: boolean;
}

/** A message of a run's conversation. */
export interface AgentMessage {
  /** The message's ID. */
  readonly id?: string;
  /** Who wrote it, such as `user` or `assistant`. */
  readonly role?: string;
  /** What it says, as the API sends it. */
  readonly content?: unknown;
  readonly [key: string]: unknown;
}

/** Response of `GET /api/v1/tasks/{runId}`. */
export interface AgentTaskDetail {
  /** The task the run belongs to. */
  readonly taskId: string;
  /** The run's ID. */
  readonly runId: string;
  /** The conversation the run belongs to. */
  readonly chatId: string;
  /** The run's status (`queued`, `running`, `completed`, …). */
  readonly status: AgentRunStatus;
  /** When it was created (ISO 8601). */
  readonly createdAt: string;
  /** When it started running (ISO 8601), `null` while it is queued. */
  readonly startedAt: string | null;
  /** When it ended (ISO 8601), `null` while it is live. */
  readonly completedAt: string | null;
  /** Why it failed, `null` otherwise. */
  readonly error: string | null;
  /** The run's conversation, oldest message first. */
  readonly messages: readonly AgentMessage[];
  readonly [key: string]: unknown;
}

/** Response of `GET /api/v1/tasks/{runId}/status`. */
export interface AgentStatusResponse {
  /** The run's ID. */
  readonly runId: string;
  /** The run's status, in this endpoint's words: `pending` and `in_progress` while it is live. */
  readonly status: AgentRunStatus;
  /** How far the run has got, as the API reports it. */
  readonly progress: unknown;
  /** Why it failed, `null` otherwise. */
  readonly error: string | null;
  /** When it started running (ISO 8601), `null` while it is pending. */
  readonly startedAt: string | null;
  /** When it ended (ISO 8601), `null` while it is live. */
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
  /** Whether the update was applied. */
  readonly success: boolean;
  /** The run's status after the update (`cancelled` after a cancel). */
  readonly status: AgentRunStatus;
  /** The API's description of what it did. */
  readonly message: string;
}

/** Body of `POST /api/v1/tasks/{runId}/continue`. */
export interface AgentContinueBody {
  /** The follow-up instruction. */
  readonly prompt: string;
  /** Model identifier for the new run. */
  readonly model?: string;
  /** Which agent runs the new run. */
  readonly agent?: AgentName;
}

/** Response of `POST /api/v1/tasks/{runId}/continue`: `runId` is a new run. */
export interface AgentContinueResponse {
  /** The NEW run's ID: track and cancel this one. */
  readonly runId: string;
  /** The message the agent's answer is written to. */
  readonly assistantMessageId: string;
  /** The conversation, the same as the previous run's. */
  readonly chatId: string;
  /** The run that was continued. */
  readonly previousRunId: string;
}
