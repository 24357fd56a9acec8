/**
 * `createSimulator`: wires the state, the faults, the ledger and the server together.
 * @module
 */
import type { AgentCreateTaskResponse } from '../clients/agent-types.js';
import type { CloudTaskResponse } from '../clients/cloud-types.js';
import { createdRun, agentHandlers } from './agent-routes.js';
import { agentTimeline, AgentRuns } from './agent-runs.js';
import { cloudHandlers, createdTask } from './cloud-routes.js';
import { cloudTimeline, CloudTasks } from './cloud-tasks.js';
import { FaultPlan } from './faults.js';
import { Ledger, type SimulatorLedger } from './ledger.js';
import {
  AGENT_OUTCOMES,
  checkDuration,
  checkOutcome,
  CLOUD_OUTCOMES,
  resolveOptions,
  type ResolvedSimulatorFaults,
  type SimulatorConfig,
  type SimulatorFaults,
  type SimulatorOptions,
} from './options.js';
import { Random } from './random.js';
import { SimServer } from './server.js';
import type {
  CreateAgentRunOptions,
  CreateCloudTaskOptions,
  SimulatedAgentRun,
  SimulatedCloudTask,
  Simulator,
} from './types.js';
import { Users } from './users.js';

/** Mixed into the seed for the ID stream, so creating tasks does not shift the fault dice. */
const ID_STREAM = 0x9e3779b9;

/**
 * Starts a simulator of both BLACKBOX task APIs on 127.0.0.1.
 *
 * @example
 * ```ts
 * import { AgentClient } from 'taskguard';
 * import { createSimulator } from 'taskguard/simulator';
 *
 * const sim = await createSimulator({ seed: 42 });
 * const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
 * const { runId } = await agent.createTask({ prompt: 'hello' });
 * await agent.cancel(runId);
 * sim.ledger.cancels.get(runId); // 1
 * await sim.close();
 * ```
 */
export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const config = resolveOptions(options);
  const instance = new SimulatorInstance(config, new FaultPlan(new Random(config.seed), options.faults ?? {}));
  await instance.start();
  return instance;
}

class SimulatorInstance implements Simulator {
  readonly #config: SimulatorConfig;
  readonly #faults: FaultPlan;
  readonly #ledger = new Ledger();
  readonly #users: Users;
  readonly #runs: AgentRuns;
  readonly #tasks: CloudTasks;
  readonly #server: SimServer;
  #port = 0;

  constructor(config: SimulatorConfig, faults: FaultPlan) {
    this.#config = config;
    this.#faults = faults;
    this.#users = new Users(config);
    const ids = new Random(config.seed ^ ID_STREAM);
    this.#runs = new AgentRuns(ids);
    this.#tasks = new CloudTasks(ids);
    const ledger = this.#ledger;
    this.#server = new SimServer({
      config,
      ledger,
      faults,
      users: this.#users,
      handlers: { ...agentHandlers({ config, runs: this.#runs, ledger }), ...cloudHandlers({ config, tasks: this.#tasks, ledger }) },
    });
  }

  async start(): Promise<void> {
    this.#port = await this.#server.listen(this.#config.port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }
  get port(): number {
    return this.#port;
  }
  get agentKey(): string {
    return this.#config.agentKey;
  }
  get cloudKey(): string {
    return this.#config.cloudKey;
  }
  get seed(): number {
    return this.#config.seed;
  }
  get ledger(): SimulatorLedger {
    return this.#ledger;
  }
  get faults(): ResolvedSimulatorFaults {
    return this.#faults.current;
  }

  createAgentRun(options: CreateAgentRunOptions = {}): AgentCreateTaskResponse {
    const config = this.#config;
    const run = this.#runs.create({
      userId: this.#users.idOf(options.owner ?? config.agentKey),
      prompt: options.prompt ?? 'Simulated run',
      model: options.model ?? null,
      agent: options.agent ?? null,
      previousRunId: null,
      createdAtMs: config.now(),
      queuedMs: config.queuedMs,
      durationMs: checkDuration(options.durationMs ?? config.defaultDurationMs, 'durationMs'),
      outcome: checkOutcome(options.outcome ?? config.defaultAgentOutcome, AGENT_OUTCOMES, 'outcome'),
    });
    return createdRun(run);
  }

  createCloudTask(options: CreateCloudTaskOptions = {}): CloudTaskResponse {
    const config = this.#config;
    const nowMs = config.now();
    const task = this.#tasks.create({
      userId: this.#users.idOf(options.owner ?? config.cloudKey),
      prompt: options.prompt ?? 'Simulated task',
      repoUrl: null,
      selectedBranch: null,
      selectedAgent: null,
      selectedModel: null,
      batchId: options.batchId ?? null,
      createdAtMs: nowMs,
      savingMs: config.savingMs,
      phaseStartMs: nowMs,
      pendingMs: config.queuedMs,
      durationMs: checkDuration(options.durationMs ?? config.defaultDurationMs, 'durationMs'),
      outcome: checkOutcome(options.outcome ?? config.defaultCloudOutcome, CLOUD_OUTCOMES, 'outcome'),
    });
    return createdTask(task, nowMs);
  }

  getAgentRun(runId: string): SimulatedAgentRun | undefined {
    const run = this.#runs.get(runId);
    if (!run) return undefined;
    const at = agentTimeline(run, this.#config.now());
    return {
      runId: run.runId,
      taskId: run.taskId,
      chatId: run.chatId,
      userId: run.userId,
      status: at.status,
      outcome: run.outcome,
      durationMs: run.durationMs,
      prompt: run.prompt,
      title: run.title,
      previousRunId: run.previousRunId,
      createdAtMs: run.createdAtMs,
      startedAtMs: at.startedAtMs,
      completedAtMs: at.completedAtMs,
      cancelledAtMs: run.cancelledAtMs,
    };
  }

  getCloudTask(taskId: string): SimulatedCloudTask | undefined {
    const task = this.#tasks.get(taskId);
    if (!task) return undefined;
    const at = cloudTimeline(task, this.#config.now());
    return {
      id: task.id,
      userId: task.userId,
      status: at.status,
      outcome: task.outcome,
      durationMs: task.durationMs,
      prompt: task.prompt,
      createdAtMs: task.createdAtMs,
      updatedAtMs: at.updatedAtMs,
      completedAtMs: at.completedAtMs,
      stoppedAtMs: task.stoppedAtMs,
    };
  }

  setFaults(faults: SimulatorFaults): void {
    this.#faults.set(faults);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  close(): Promise<void> {
    return this.#server.close();
  }
}
