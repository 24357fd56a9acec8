/**
 * Cloud tasks: their records, and their status computed lazily from the clock (no timer per task).
 * A task lives in phases: creation starts one (`pending`, `processing`, `saving`, outcome) and every
 * continue starts another straight at `processing`.
 * @module
 */
import type { CloudStatusResponse, CloudTask } from '../clients/cloud-types.js';
import type { CloudLogEntry } from './cloud-log-script.js';
import { iso, percent } from './http.js';
import type { SimulatedCloudOutcome } from './options.js';
import type { Random } from './random.js';
import { OwnedIndex } from './owned-index.js';

/** Status words of the Cloud API. */
export type CloudPhase = 'pending' | 'processing' | 'saving' | 'stopped' | SimulatedCloudOutcome;

/** Everything the simulator knows about one task. */
export interface CloudTaskRecord {
  readonly id: string;
  readonly userId: string;
  readonly prompt: string;
  readonly repoUrl: string | null;
  readonly selectedBranch: string | null;
  readonly selectedAgent: string | null;
  readonly selectedModel: string | null;
  /** The batch it was launched in, `null` for a task of its own. */
  readonly batchId: string | null;
  readonly createdAtMs: number;
  readonly savingMs: number;
  /** When the current phase began: creation, or the last continue. */
  phaseStartMs: number;
  /** How long the current phase stays `pending`: `queuedMs` after creation, 0 after a continue. */
  pendingMs: number;
  durationMs: number;
  outcome: SimulatedCloudOutcome;
  stoppedAtMs: number | null;
  /** The logs of the phases before the current one, kept by a continue (the current phase's are computed). */
  earlierLogs: readonly CloudLogEntry[];
}

/** The fields of a new task; the store draws its ID. */
export type NewCloudTask = Omit<CloudTaskRecord, 'id' | 'stoppedAtMs' | 'earlierLogs'>;

/** Where a task stands at one instant. */
export interface CloudTimeline {
  readonly status: CloudPhase;
  readonly updatedAtMs: number;
  readonly completedAtMs: number | null;
  readonly progress: number;
}

const ERRORS: Readonly<Record<CloudPhase, string | null>> = {
  pending: null,
  processing: null,
  saving: null,
  completed: null,
  error: 'Task failed (simulated)',
  timeout: 'Task timed out (simulated)',
  stopped: 'Task was stopped by user',
};

/** The `error` a task in `status` reports: a message once it failed, timed out or was stopped, else `null`. */
export function cloudError(status: CloudPhase): string | null {
  return ERRORS[status];
}

/** Whether a task in `status` is running (the only time it can be stopped). */
export function isCloudStoppable(status: CloudPhase): boolean {
  return status === 'processing' || status === 'saving';
}

/** Whether a task in `status` is done. */
export function isCloudDone(status: CloudPhase): boolean {
  return status !== 'pending' && status !== 'processing' && status !== 'saving';
}

/** The task's status at `nowMs`; `updatedAtMs` is when it last changed. */
export function cloudTimeline(task: CloudTaskRecord, nowMs: number): CloudTimeline {
  const start = task.phaseStartMs;
  const end = start + task.durationMs;
  if (task.stoppedAtMs !== null) {
    const progress = percent(task.stoppedAtMs - start, task.durationMs);
    return { status: 'stopped', updatedAtMs: task.stoppedAtMs, completedAtMs: task.stoppedAtMs, progress };
  }
  if (nowMs >= end) return { status: task.outcome, updatedAtMs: end, completedAtMs: end, progress: 100 };
  const processingFrom = start + task.pendingMs;
  if (nowMs < processingFrom) return { status: 'pending', updatedAtMs: start, completedAtMs: null, progress: 0 };
  const progress = percent(nowMs - start, task.durationMs);
  const savingFrom = Math.max(processingFrom, end - task.savingMs);
  if (nowMs >= savingFrom) return { status: 'saving', updatedAtMs: savingFrom, completedAtMs: null, progress };
  return { status: 'processing', updatedAtMs: processingFrom, completedAtMs: null, progress };
}

/** The create, get and list endpoints' view of a task. */
export function cloudView(task: CloudTaskRecord, nowMs: number): CloudTask {
  const at = cloudTimeline(task, nowMs);
  return {
    id: task.id,
    userId: task.userId,
    prompt: task.prompt,
    status: at.status,
    progress: at.progress,
    error: ERRORS[at.status],
    repoUrl: task.repoUrl,
    selectedBranch: task.selectedBranch,
    selectedAgent: task.selectedAgent,
    selectedModel: task.selectedModel,
    batchId: task.batchId,
    createdAt: new Date(task.createdAtMs).toISOString(),
    updatedAt: new Date(at.updatedAtMs).toISOString(),
    completedAt: iso(at.completedAtMs),
  };
}

/** The status endpoint's view of a task, with `inProgress`, `isDone` and the elapsed `duration`. */
export function cloudStatus(task: CloudTaskRecord, nowMs: number): CloudStatusResponse {
  const at = cloudTimeline(task, nowMs);
  const done = isCloudDone(at.status);
  const elapsedMs = (at.completedAtMs ?? nowMs) - task.createdAtMs;
  return {
    taskId: task.id,
    status: at.status,
    progress: at.progress,
    inProgress: !done,
    isDone: done,
    error: ERRORS[at.status],
    createdAt: new Date(task.createdAtMs).toISOString(),
    updatedAt: new Date(at.updatedAtMs).toISOString(),
    completedAt: iso(at.completedAtMs),
    duration: `${Math.max(0, Math.floor(elapsedMs / 1000))}s`,
  };
}

/** Every task by ID, and each user's tasks in creation order for the list endpoint. */
export class CloudTasks {
  readonly #random: Random;
  readonly #index = new OwnedIndex<CloudTaskRecord>();

  constructor(random: Random) {
    this.#random = random;
  }

  create(fields: NewCloudTask): CloudTaskRecord {
    const task: CloudTaskRecord = { ...fields, id: this.#random.nanoid(), stoppedAtMs: null, earlierLogs: [] };
    this.#index.add(task.id, task);
    return task;
  }

  get(taskId: string): CloudTaskRecord | undefined {
    return this.#index.get(taskId);
  }

  /** The user's tasks, oldest first. */
  ownedBy(userId: string): readonly CloudTaskRecord[] {
    return this.#index.ownedBy(userId);
  }
}
