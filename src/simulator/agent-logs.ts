/**
 * The Agent API's logs (`GET /api/v1/tasks/{runId}/logs`) and log stream (`…/logs/stream`, Server-Sent
 * Events), both read from the run's event script.
 * @module
 */
import { agentError, agentTimeline, isAgentTerminal, type AgentPhase, type AgentRunRecord } from './agent-runs.js';
import { boolQuery, iso, ok } from './http.js';
import { agentEventsAt, agentScript, type AgentStreamEvent, type TimedAgentEvent } from './log-script.js';
import type { Handler, RouteContext } from './routes.js';
import type { StreamPull, StreamSource } from './streams.js';

/** Where a logs answer comes from, in the API's words. */
export type AgentLogSource = 'buffer' | 'reconstructed' | 'merged';

/**
 * A live run answers from the agent's buffer; an interrupted one lost it in the restart, so its logs are
 * rebuilt from the stored conversation; any other finished run merges the two.
 */
function sourceOf(status: AgentPhase): AgentLogSource {
  if (!isAgentTerminal(status)) return 'buffer';
  return status === 'interrupted' ? 'reconstructed' : 'merged';
}

/** The events a reader sees: `includeDeltas=false` leaves the `text-delta` events out. */
function shown(events: readonly TimedAgentEvent[], includeDeltas: boolean): AgentStreamEvent[] {
  return events.filter((event) => includeDeltas || event.data.type !== 'text-delta').map((event) => event.data);
}

/** The handlers of the logs and the log stream; `ownRun` answers 404 and 403 as every other call does. */
export function agentLogHandlers(seed: number, ownRun: (context: RouteContext) => AgentRunRecord) {
  const logs: Handler = (context) => {
    const run = ownRun(context);
    const includeDeltas = boolQuery(context.query, 'includeDeltas', true);
    const raw = boolQuery(context.query, 'raw', false);
    const status = agentTimeline(run, context.nowMs).status;
    const all = agentEventsAt(agentScript(seed, run), run, context.nowMs);
    const events = shown(all, includeDeltas);
    return ok({
      runId: run.runId,
      chatId: run.chatId,
      status,
      source: sourceOf(status),
      eventCount: events.length,
      events,
      error: agentError(status),
      // Raw means as the agent wrote them: every event, deltas included, as a line of JSON.
      ...(raw && { rawEvents: all.map((event, index) => ({ index, timestamp: iso(event.atMs), line: JSON.stringify(event.data) })) }),
    });
  };

  const stream: Handler = (context) => {
    const run = ownRun(context);
    const includeDeltas = boolQuery(context.query, 'includeDeltas', true);
    return { key: run.runId, source: new AgentLogStream(agentScript(seed, run), run, includeDeltas) };
  };

  return { 'agent.logs': logs, 'agent.stream': stream } as const satisfies Record<string, Handler>;
}

/** One client's log stream: what the run has said since the last pull, until `finish`. */
class AgentLogStream implements StreamSource {
  readonly #script: readonly TimedAgentEvent[];
  readonly #run: AgentRunRecord;
  readonly #includeDeltas: boolean;
  #pulled = 0;

  constructor(script: readonly TimedAgentEvent[], run: AgentRunRecord, includeDeltas: boolean) {
    this.#script = script;
    this.#run = run;
    this.#includeDeltas = includeDeltas;
  }

  pull(nowMs: number): StreamPull {
    const all = agentEventsAt(this.#script, this.#run, nowMs);
    const fresh = all.slice(this.#pulled);
    this.#pulled = all.length;
    return {
      events: shown(fresh, this.#includeDeltas).map((data) => ({ data, counted: true })),
      done: all.at(-1)?.data.type === 'finish',
    };
  }
}
