/**
 * The Agent API (`/api/v1/tasks…`, SPEC 2.1): bodies, validation and error codes.
 * @module
 */
import type { AgentContinueResponse, AgentCreateTaskResponse, AgentListTasksResponse, AgentUpdateResponse } from '../clients/agent-types.js';
import { agentLogHandlers } from './agent-logs.js';
import { agentDetail, agentStatus, agentSummary, agentTimeline, isAgentTerminal, type AgentPhase, type AgentRunRecord, type AgentRuns } from './agent-runs.js';
import { parseHint } from './hints.js';
import { HttpError, intQuery, ok, optionalText, parseJsonObject, requiredText } from './http.js';
import type { Ledger } from './ledger.js';
import { AGENT_OUTCOMES, type SimulatorConfig } from './options.js';
import type { Handler, RouteContext } from './routes.js';

/** What the Agent API handlers work on. */
export interface AgentRouteDeps {
  readonly config: SimulatorConfig;
  readonly runs: AgentRuns;
  readonly ledger: Ledger;
}

const AGENTS: ReadonlySet<unknown> = new Set(['claude', 'codex']);

/** The status filter accepts both vocabularies; the status endpoint's words map to the list's. */
const STATUS_FILTER: ReadonlyMap<string, AgentPhase> = new Map<string, AgentPhase>([
  ['pending', 'queued'],
  ['queued', 'queued'],
  ['in_progress', 'running'],
  ['running', 'running'],
  ['completed', 'completed'],
  ['failed', 'failed'],
  ['cancelled', 'cancelled'],
  ['interrupted', 'interrupted'],
]);

/** The create response of a run, shared by `POST /api/v1/tasks` and `Simulator.createAgentRun`. */
export function createdRun(run: AgentRunRecord): AgentCreateTaskResponse {
  return { taskId: run.taskId, runId: run.runId, assistantMessageId: run.assistantMessageId, chatId: run.chatId, agentCount: 1 };
}

/** The handlers of the eight Agent API calls. */
export function agentHandlers({ config, runs, ledger }: AgentRouteDeps) {
  /** The run, if it exists (404) and belongs to the caller (403). */
  const ownRun = ({ id, userId }: RouteContext): AgentRunRecord => {
    const run = runs.get(id);
    if (!run) throw new HttpError(404, 'Task not found');
    if (run.userId !== userId) throw new HttpError(403, 'Forbidden');
    return run;
  };

  /** The fields a create or a continue reads, and the hint that steers the run it starts. */
  const runFields = (body: Record<string, unknown>, prompt: string) => {
    const agent = optionalText(body, 'agent');
    if (agent !== null && !AGENTS.has(agent)) throw new HttpError(400, 'agent must be "claude" or "codex"');
    const hint = parseHint(prompt, AGENT_OUTCOMES);
    return {
      prompt,
      agent,
      model: optionalText(body, 'model'),
      queuedMs: config.queuedMs,
      durationMs: hint.durationMs ?? config.defaultDurationMs,
      outcome: hint.outcome ?? config.defaultAgentOutcome,
    };
  };

  const create: Handler = (context) => {
    const body = parseJsonObject(context.body);
    const prompt = requiredText(body, 'prompt', body['prompt'] ?? body['message']);
    for (const name of ['type', 'repoUrl', 'selectedBranch']) optionalText(body, name);
    const run = runs.create({ ...runFields(body, prompt), userId: context.userId, previousRunId: null, createdAtMs: context.nowMs });
    return ok(createdRun(run));
  };

  const list: Handler = ({ query, userId, nowMs }) => {
    const page = intQuery(query, 'page', 1, 1);
    const limit = intQuery(query, 'limit', 20, 1, 100);
    const rawStatus = query.get('status');
    const wanted = rawStatus === null || rawStatus === '' ? undefined : STATUS_FILTER.get(rawStatus);
    if (rawStatus && wanted === undefined) throw new HttpError(400, `Invalid status filter "${rawStatus}"`);
    const mine = runs.ownedBy(userId);
    const skip = (page - 1) * limit;
    const tasks = [];
    let matched = 0;
    // Newest first, stopping one past the page: O(page end) without a filter, not O(all runs). The real
    // API documents no order; newest first keeps paging consistent as runs are added (a page can repeat
    // a run of the page before it, never skip one).
    for (let i = mine.length - 1; i >= 0 && matched <= skip + limit; i--) {
      const run = mine[i] as AgentRunRecord;
      if (wanted !== undefined && agentTimeline(run, nowMs).status !== wanted) continue;
      if (matched >= skip && matched < skip + limit) tasks.push(agentSummary(run, nowMs));
      matched++;
    }
    const response: AgentListTasksResponse = { tasks, page, limit, hasMore: matched > skip + limit };
    return ok(response);
  };

  const get: Handler = (context) => ok(agentDetail(ownRun(context), context.nowMs));

  const status: Handler = (context) => ok(agentStatus(ownRun(context), context.nowMs));

  const update: Handler = (context) => {
    const body = parseJsonObject(context.body);
    const action = body['action'];
    const title = body['title'];
    if (action === undefined && title === undefined) throw new HttpError(400, 'Provide an action or a title');
    if (action !== undefined && action !== 'cancel') throw new HttpError(400, 'Invalid action: only "cancel" is supported');
    if (title !== undefined && (typeof title !== 'string' || title.length < 1 || title.length > 200)) {
      throw new HttpError(400, 'title must be a string of 1 to 200 characters');
    }
    if (action === 'cancel') ledger.cancelled(context.id);
    const run = ownRun(context);
    const current = agentTimeline(run, context.nowMs).status;
    let response: AgentUpdateResponse;
    if (action === 'cancel') {
      if (isAgentTerminal(current)) throw new HttpError(400, `Task is already ${current}`);
      run.cancelledAtMs = context.nowMs;
      response = { success: true, status: 'cancelled', message: `Task ${run.runId} cancelled successfully` };
    } else {
      run.title = title as string;
      response = { success: true, status: current, message: 'Task title updated' };
    }
    return ok(response);
  };

  const continueRun: Handler = (context) => {
    const body = parseJsonObject(context.body);
    const prompt = requiredText(body, 'prompt');
    const fields = runFields(body, prompt);
    const previous = ownRun(context);
    const run = runs.create({
      ...fields,
      model: fields.model ?? previous.model,
      agent: fields.agent ?? previous.agent,
      userId: previous.userId,
      taskId: previous.taskId,
      chatId: previous.chatId,
      previousRunId: previous.runId,
      createdAtMs: context.nowMs,
    });
    const response: AgentContinueResponse = { runId: run.runId, assistantMessageId: run.assistantMessageId, chatId: run.chatId, previousRunId: previous.runId };
    return ok(response);
  };

  return {
    'agent.create': create,
    'agent.list': list,
    'agent.get': get,
    'agent.status': status,
    'agent.update': update,
    'agent.continue': continueRun,
    ...agentLogHandlers(config.seed, ownRun),
  } as const satisfies Record<string, Handler>;
}
