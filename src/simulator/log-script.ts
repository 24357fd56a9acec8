/**
 * What an agent run "says" while it runs: a small event script drawn from the seed and the run ID, spread
 * over the running phase, and cut where the clock (or a cancel) stands. The logs endpoint and the log
 * stream read the same script, so a replay equals what a live stream delivered.
 * @module
 */
import { agentError, agentTimeline, type AgentRunRecord } from './agent-runs.js';
import { Random } from './random.js';

/** One event of the log stream: its `type` and the fields of that type. */
export interface AgentStreamEvent {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** An event of a run's script and when it happens, in epoch milliseconds. */
export interface TimedAgentEvent {
  readonly atMs: number;
  readonly data: AgentStreamEvent;
}

/** Over how long the events of a run that never ends are spread, in milliseconds. */
const ENDLESS_SPAN_MS = 2000;

const OPENINGS = ['Reading the repository layout.', 'Looking at the failing test first.', 'Starting with the smallest change.'];
const CLOSINGS = ['The change fits in one module.', 'Everything passes now.', 'Done: one file changed, tests green.'];

const TOOLS: readonly { readonly toolName: string; readonly input: unknown; readonly output: unknown }[] = [
  { toolName: 'Read', input: { path: 'src/index.ts' }, output: 'export * from "./core.js";\n' },
  { toolName: 'Bash', input: { command: 'npm test' }, output: '42 passing' },
  { toolName: 'Grep', input: { pattern: 'TODO', path: 'src' }, output: 'no matches' },
  { toolName: 'Edit', input: { path: 'src/core.ts', oldString: 'a', newString: 'b' }, output: 'edited 1 line' },
];

/**
 * The run's body events — from `session-init` to the last text, without the outcome and `finish` — each
 * at its time. The same seed and run give the same script; `createdAtMs` and the durations place it.
 */
export function agentScript(seed: number, run: AgentRunRecord): readonly TimedAgentEvent[] {
  const random = Random.forKey(seed, `agent-script:${run.runId}`);
  const body: AgentStreamEvent[] = [];
  const text = (id: string, sentences: readonly string[]): void => {
    body.push({ type: 'text-start', id });
    for (const word of random.pick(sentences).split(/(?<= )/)) body.push({ type: 'text-delta', id, delta: word });
  };
  const toolCall = (): void => {
    const { toolName, input, output } = random.pick(TOOLS);
    const toolCallId = `call_${random.uint32().toString(16).padStart(8, '0')}`;
    body.push({ type: 'tool-call-start', toolCallId, toolName });
    body.push({ type: 'tool-input-available', toolCallId, toolName, input });
    body.push({ type: 'tool-output-available', toolCallId, toolName, output });
  };
  text('text-1', OPENINGS);
  for (let calls = random.int(1, 2); calls > 0; calls--) toolCall();
  body.push({ type: 'files', files: [{ path: random.pick(['src/core.ts', 'README.md', 'test/core.test.ts']), action: 'modified' }] });
  text('text-2', CLOSINGS);

  const startMs = run.createdAtMs + Math.min(run.queuedMs, run.durationMs);
  const spanMs = Number.isFinite(run.durationMs) ? run.createdAtMs + run.durationMs - startMs : ENDLESS_SPAN_MS;
  const init: TimedAgentEvent = { atMs: startMs, data: { type: 'session-init', sessionId: random.uuid(), runId: run.runId, model: run.model } };
  // Strictly inside the running phase, so every body event comes before the outcome.
  return [init, ...body.map((data, i) => ({ atMs: startMs + (spanMs * (i + 1)) / (body.length + 1), data }))];
}

/** Everything the run has said by `nowMs`: the script up to now (or its cancel), then its outcome and `finish` once it is over. */
export function agentEventsAt(script: readonly TimedAgentEvent[], run: AgentRunRecord, nowMs: number): TimedAgentEvent[] {
  const at = agentTimeline(run, nowMs);
  const cutoffMs = at.completedAtMs ?? nowMs;
  const events = script.filter((event) => event.atMs <= cutoffMs);
  if (at.completedAtMs === null) return events; // not over yet
  const endMs = at.completedAtMs;
  if (at.status === 'completed') {
    events.push({ atMs: endMs, data: { type: 'result', result: 'Done (simulated).', isError: false, durationMs: endMs - run.createdAtMs } });
  } else if (at.status !== 'cancelled') {
    events.push({ atMs: endMs, data: { type: 'error', errorText: agentError(at.status) } });
  }
  events.push({ atMs: endMs, data: { type: 'finish', runId: run.runId, status: at.status } });
  return events;
}
