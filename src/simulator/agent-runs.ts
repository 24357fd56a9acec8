/**
 * Agent runs: their records, and their status computed lazily from the clock (no timer per run, so
 * 100,000 runs cost memory and nothing else).
 * @module
 */
import type {
  AgentRunStatus,
  AgentStatusResponse,
  AgentTaskDetail,
  AgentTaskSummary,
} from '../clients/agent-types.js';
import { iso, percent } from './http.js';
import type { SimulatedAgentOutcome } from './options.js';
import type { Random } from './random.js';
import { OwnedIndex } from './owned-index.js';

/** Status words of the list and get endpoints (the status endpoint renames the first two). */
export type AgentPhase = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

/** Everything the simulator knows about one run. */
export interface AgentRunRecord {
  readonly runId: string;
  readonly taskId: string;
  readonly chatId: string;
  readonly assistantMessageId: string;
  readonly userMessageId: string;
  readonly userId: string;
  readonly prompt: string;
  readonly model: string | null;
  readonly agent: string | null;
  readonly previousRunId: string | null;
  readonly createdAtMs: number;
  readonly queuedMs: number;
  readonly durationMs: number;
  readonly outcome: SimulatedAgentOutcome;
  title: string | null;
  cancelledAtMs: number | null;
}

/** The fields of a new run; IDs are drawn by the store, `taskId`/`chatId` kept when continuing. */
export type NewAgentRun = Omit<
  AgentRunRecord,
  'runId' | 'taskId' | 'chatId' | 'assistantMessageId' | 'userMessageId' | 'title' | 'cancelledAtMs'
> & { readonly taskId?: string; readonly chatId?: string };

/** Where a run stands at one instant. */
export interface AgentTimeline {
  readonly status: AgentPhase;
  readonly startedAtMs: number | null;
  readonly completedAtMs: number | null;
  readonly progress: number;
}

const TERMINAL: ReadonlySet<AgentRunStatus> = new Set(['completed', 'failed', 'cancelled', 'interrupted']);

const ERRORS: Readonly<Record<AgentPhase, string | null>> = {
  queued: null,
  running: null,
  completed: null,
  cancelled: null,
  failed: 'Agent process exited with an error (simulated)',
  interrupted: 'Task was interrupted by a server restart (simulated)',
};

/** The `error` a run in `status` reports: a message once it failed or was interrupted, else `null`. */
export function agentError(status: AgentPhase): string | null {
  return ERRORS[status];
}

/** Whether `status` never changes again. */
export function isAgentTerminal(status: AgentRunStatus): boolean {
  return TERMINAL.has(status);
}

/** The run's status at `nowMs`: queued for `queuedMs`, running until `durationMs`, then its outcome. */
export function agentTimeline(run: AgentRunRecord, nowMs: number): AgentTimeline {
  const startMs = run.createdAtMs + Math.min(run.queuedMs, run.durationMs);
  const endMs = run.createdAtMs + run.durationMs;
  if (run.cancelledAtMs !== null) {
    const startedAtMs = startMs < run.cancelledAtMs ? startMs : null;
    return { status: 'cancelled', startedAtMs, completedAtMs: run.cancelledAtMs, progress: percent(run.cancelledAtMs - run.createdAtMs, run.durationMs) };
  }
  if (nowMs >= endMs) return { status: run.outcome, startedAtMs: startMs, completedAtMs: endMs, progress: 100 };
  if (nowMs < startMs) return { status: 'queued', startedAtMs: null, completedAtMs: null, progress: 0 };
  return { status: 'running', startedAtMs: startMs, completedAtMs: null, progress: percent(nowMs - run.createdAtMs, run.durationMs) };
}

/** The list endpoint's view of a run. */
export function agentSummary(run: AgentRunRecord, nowMs: number): AgentTaskSummary {
  return summaryAt(run, agentTimeline(run, nowMs));
}

function summaryAt(run: AgentRunRecord, at: AgentTimeline): AgentTaskSummary {
  return {
    taskId: run.taskId,
    runId: run.runId,
    chatId: run.chatId,
    status: at.status,
    model: run.model,
    createdAt: new Date(run.createdAtMs).toISOString(),
    startedAt: iso(at.startedAtMs),
    completedAt: iso(at.completedAtMs),
    assistantMessageId: run.assistantMessageId,
  };
}

/** The get endpoint's view of a run, with its conversation. */
export function agentDetail(run: AgentRunRecord, nowMs: number): AgentTaskDetail {
  const at = agentTimeline(run, nowMs);
  const answer = at.status === 'completed' ? 'Done (simulated).' : '';
  return {
    ...summaryAt(run, at),
    title: run.title,
    prompt: run.prompt,
    agent: run.agent,
    previousRunId: run.previousRunId,
    error: ERRORS[at.status],
    messages: [
      { id: run.userMessageId, role: 'user', content: run.prompt },
      { id: run.assistantMessageId, role: 'assistant', content: answer },
    ],
  };
}

/** The status endpoint's view of a run, in its own words (`pending`, `in_progress`). */
export function agentStatus(run: AgentRunRecord, nowMs: number): AgentStatusResponse {
  const at = agentTimeline(run, nowMs);
  const status = at.status === 'queued' ? 'pending' : at.status === 'running' ? 'in_progress' : at.status;
  return {
    runId: run.runId,
    status,
    progress: at.progress,
    error: ERRORS[at.status],
    startedAt: iso(at.startedAtMs),
    completedAt: iso(at.completedAtMs),
  };
}

/** Every run by ID, and each user's runs in creation order for the list endpoint. */
export class AgentRuns {
  readonly #random: Random;
  readonly #index = new OwnedIndex<AgentRunRecord>();

  constructor(random: Random) {
    this.#random = random;
  }

  create(fields: NewAgentRun): AgentRunRecord {
    const run: AgentRunRecord = {
      ...fields,
      runId: this.#random.uuid(),
      taskId: fields.taskId ?? this.#random.uuid(),
      chatId: fields.chatId ?? this.#random.uuid(),
      assistantMessageId: this.#random.uuid(),
      userMessageId: this.#random.uuid(),
      title: null,
      cancelledAtMs: null,
    };
    this.#index.add(run.runId, run);
    return run;
  }

  get(runId: string): AgentRunRecord | undefined {
    return this.#index.get(runId);
  }

  /** The user's runs, oldest first. */
  ownedBy(userId: string): readonly AgentRunRecord[] {
    return this.#index.ownedBy(userId);
  }
}
