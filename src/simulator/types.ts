/**
 * The public shape of a running simulator and of what it lets tests create and inspect.
 * @module
 */
import type { AgentCreateTaskResponse } from '../clients/agent-types.js';
import type { CloudTaskResponse } from '../clients/cloud-types.js';
import type { AgentPhase } from './agent-runs.js';
import type { CloudPhase } from './cloud-tasks.js';
import type { SimulatorLedger } from './ledger.js';
import type { ResolvedSimulatorFaults, SimulatedAgentOutcome, SimulatedCloudOutcome, SimulatorFaults } from './options.js';

/** How `Simulator.createAgentRun` scripts a run. */
export interface CreateAgentRunOptions {
  /** From creation to the outcome, in milliseconds; `Infinity` hangs forever. @default the `defaultDurationMs` option (2000) */
  readonly durationMs?: number | undefined;
  /** How the run ends unless cancelled first. @default the `defaultAgentOutcome` option ('completed') */
  readonly outcome?: SimulatedAgentOutcome | undefined;
  /** The API key of the user who owns the run; any other key gets 403. @default the simulator's `agentKey` */
  readonly owner?: string | undefined;
  /** The run's prompt. @default 'Simulated run' */
  readonly prompt?: string | undefined;
  /** The model it reports. @default null */
  readonly model?: string | undefined;
  /** The agent it reports. @default null */
  readonly agent?: 'claude' | 'codex' | undefined;
}

/** How `Simulator.createCloudTask` scripts a task. */
export interface CreateCloudTaskOptions {
  /** From creation to the outcome, in milliseconds; `Infinity` hangs forever. @default the `defaultDurationMs` option (2000) */
  readonly durationMs?: number | undefined;
  /** How the task ends unless stopped first. @default the `defaultCloudOutcome` option ('completed') */
  readonly outcome?: SimulatedCloudOutcome | undefined;
  /** The API key of the user who owns the task; any other key gets 404. @default the simulator's `cloudKey` */
  readonly owner?: string | undefined;
  /** The task's prompt. @default 'Simulated task' */
  readonly prompt?: string | undefined;
  /** The batch it belongs to, for the list's `filter=batch`. @default null (a task of its own) */
  readonly batchId?: string | undefined;
}

/** The server-side state of an agent run at the simulator clock's now. Times in epoch milliseconds. */
export interface SimulatedAgentRun {
  /** The run's ID. */
  readonly runId: string;
  /** The task it belongs to; a continue keeps it. */
  readonly taskId: string;
  /** The conversation it belongs to; a continue keeps it. */
  readonly chatId: string;
  /** The owner, `sim-user-<n>`. */
  readonly userId: string;
  /** In the list endpoint's words (`queued`, `running`, …). */
  readonly status: AgentPhase;
  /** How it ends (or ended) unless cancelled. */
  readonly outcome: SimulatedAgentOutcome;
  /** From creation to the outcome, in milliseconds; `Infinity` if it never ends. */
  readonly durationMs: number;
  /** The prompt it was created with. */
  readonly prompt: string;
  /** The title a rename gave it, `null` if none did. */
  readonly title: string | null;
  /** The run this one continues, if created by a continue. */
  readonly previousRunId: string | null;
  /** When it was created. */
  readonly createdAtMs: number;
  /** When it started running, `null` while it is queued (or if it was cancelled while queued). */
  readonly startedAtMs: number | null;
  /** When it ended (its outcome or a cancel), `null` while it is live. */
  readonly completedAtMs: number | null;
  /** When a cancel landed, `null` if none did. */
  readonly cancelledAtMs: number | null;
}

/** The server-side state of a cloud task at the simulator clock's now. Times in epoch milliseconds. */
export interface SimulatedCloudTask {
  /** The task's ID. */
  readonly id: string;
  /** The owner, `sim-user-<n>`. */
  readonly userId: string;
  /** Its status now (`pending`, `processing`, `saving`, `completed`, `error`, `timeout`, `stopped`). */
  readonly status: CloudPhase;
  /** How the current phase ends (or ended) unless stopped. */
  readonly outcome: SimulatedCloudOutcome;
  /** Length of the current phase (since creation or the last continue). */
  readonly durationMs: number;
  /** The prompt it was created with. */
  readonly prompt: string;
  /** When it was created. */
  readonly createdAtMs: number;
  /** When its status last changed. */
  readonly updatedAtMs: number;
  /** When it ended (its outcome or a stop), `null` while it is live. */
  readonly completedAtMs: number | null;
  /** When a stop landed, `null` if none did (or a continue resumed the task since). */
  readonly stoppedAtMs: number | null;
}

/**
 * A running simulator of both BLACKBOX task APIs. Point `AgentClient` and `CloudClient` at `url` with
 * `agentKey` / `cloudKey`; script tasks with `createAgentRun` / `createCloudTask`; misbehave with
 * `setFaults`; read what arrived in `ledger`; `close()` when done.
 */
export interface Simulator {
  /** Base URL of both APIs, such as `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** The Bearer key the Agent API accepts (besides `extraAgentKeys`). */
  readonly agentKey: string;
  /** The Bearer key the Cloud API accepts (besides `extraCloudKeys`). */
  readonly cloudKey: string;
  /** The seed of every random decision; pass it as the `seed` option to replay a run. */
  readonly seed: number;
  /** Live counters of what the server received. */
  readonly ledger: SimulatorLedger;
  /** The faults in force, every default filled in. */
  readonly faults: ResolvedSimulatorFaults;
  /** Creates an agent run without HTTP (not counted in the ledger); returns the create call's body. */
  createAgentRun(options?: CreateAgentRunOptions): AgentCreateTaskResponse;
  /** Creates a cloud task without HTTP (not counted in the ledger); returns the create call's body. */
  createCloudTask(options?: CreateCloudTaskOptions): CloudTaskResponse;
  /** A run's server-side state now, or `undefined` for an unknown ID. */
  getAgentRun(runId: string): SimulatedAgentRun | undefined;
  /** A task's server-side state now, or `undefined` for an unknown ID. */
  getCloudTask(taskId: string): SimulatedCloudTask | undefined;
  /** Merges `faults` into the faults in force; takes effect for requests that arrive from now on. */
  setFaults(faults: SimulatorFaults): void;
  /** Removes every fault: no latency, no errors, no limits, no dropped streams, `retryAfterSeconds` back to 1. */
  clearFaults(): void;
  /** Stops the server, ends every open stream, destroys every connection (hung requests included) and clears every timer. Idempotent. */
  close(): Promise<void>;
}
