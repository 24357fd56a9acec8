/**
 * An embedded simulator of both BLACKBOX task APIs on loopback, for tests, demos and benchmarks:
 * status machines played out over time, every documented error code, the logs and both event streams,
 * injectable faults (latency, 5xx, HTML 502s, 429 with `Retry-After`, a rate limit, resets, hangs,
 * lost answers, dropped streams) and a ledger of what it received.
 *
 * ```ts
 * import { createSimulator } from 'taskguard/simulator';
 * ```
 * @module taskguard/simulator
 */
export { createSimulator } from './simulator.js';
export type {
  CreateAgentRunOptions,
  CreateCloudTaskOptions,
  SimulatedAgentRun,
  SimulatedCloudTask,
  Simulator,
} from './types.js';
export type {
  ResolvedSimulatorFaults,
  SimulatedAgentOutcome,
  SimulatedCloudOutcome,
  SimulatorFaults,
  SimulatorOptions,
  SimulatorRateLimit,
} from './options.js';
export type { SimulatorFaultKind, SimulatorLedger, SimulatorRoute } from './ledger.js';
export type { AgentPhase } from './agent-runs.js';
export type { CloudPhase } from './cloud-tasks.js';
