/**
 * The Cloud API (`/api/tasks…`, SPEC 2.2): bodies, validation and error codes.
 * @module
 */
import type { CloudContinueResponse, CloudListTasksResponse, CloudStopResponse, CloudTaskResponse } from '../clients/cloud-types.js';
import { cloudLogsAt } from './cloud-log-script.js';
import { cloudStreamHandler } from './cloud-stream.js';
import { cloudStatus, cloudTimeline, cloudView, isCloudStoppable, type CloudPhase, type CloudTaskRecord, type CloudTasks } from './cloud-tasks.js';
import { parseHint } from './hints.js';
import { HttpError, intQuery, ok, optionalText, parseJsonObject, requiredText } from './http.js';
import type { Ledger } from './ledger.js';
import { CLOUD_OUTCOMES, type SimulatorConfig } from './options.js';
import type { Handler, RouteContext } from './routes.js';

/** What the Cloud API handlers work on. */
export interface CloudRouteDeps {
  readonly config: SimulatorConfig;
  readonly tasks: CloudTasks;
  readonly ledger: Ledger;
}

/** The list's status groups. */
const STATUS_GROUPS: ReadonlyMap<string, ReadonlySet<CloudPhase>> = new Map([
  ['active', new Set<CloudPhase>(['pending', 'processing', 'saving'])],
  ['completed', new Set<CloudPhase>(['completed'])],
  ['failed', new Set<CloudPhase>(['error', 'timeout'])],
  ['stopped', new Set<CloudPhase>(['stopped'])],
]);

type KindFilter = (task: CloudTaskRecord) => boolean;

/** The list's `filter`: every task, the tasks launched on their own, or those launched in a batch. */
const KIND_FILTERS: ReadonlyMap<string, KindFilter> = new Map<string, KindFilter>([
  ['all', () => true],
  ['tasks', (task) => task.batchId === null],
  ['batch', (task) => task.batchId !== null],
]);

/** The create response of a task, shared by `POST /api/tasks` and `Simulator.createCloudTask`. */
export function createdTask(task: CloudTaskRecord, nowMs: number): CloudTaskResponse {
  // A new task is `pending` in the API's answer even when `queuedMs` is 0 and it is already processing.
  return { task: { ...cloudView(task, nowMs), status: 'pending' } };
}

/** The handlers of the seven Cloud API calls. */
export function cloudHandlers({ config, tasks, ledger }: CloudRouteDeps) {
  /** The task, if it exists and belongs to the caller: the Cloud API answers 404 to both. */
  const ownTask = ({ id, userId }: RouteContext): CloudTaskRecord => {
    const task = tasks.get(id);
    if (!task || task.userId !== userId) throw new HttpError(404, 'Task not found');
    return task;
  };

  const create: Handler = (context) => {
    const body = parseJsonObject(context.body);
    const prompt = requiredText(body, 'prompt');
    const hint = parseHint(prompt, CLOUD_OUTCOMES);
    const task = tasks.create({
      userId: context.userId,
      prompt,
      repoUrl: optionalText(body, 'repoUrl'),
      selectedBranch: optionalText(body, 'selectedBranch'),
      selectedAgent: optionalText(body, 'selectedAgent'),
      selectedModel: optionalText(body, 'selectedModel'),
      batchId: null,
      createdAtMs: context.nowMs,
      savingMs: config.savingMs,
      phaseStartMs: context.nowMs,
      pendingMs: config.queuedMs,
      durationMs: hint.durationMs ?? config.defaultDurationMs,
      outcome: hint.outcome ?? config.defaultCloudOutcome,
    });
    return ok(createdTask(task, context.nowMs));
  };

  const list: Handler = ({ query, userId, nowMs }) => {
    const limit = intQuery(query, 'limit', 50, 1, 100);
    const offset = intQuery(query, 'offset', 0, 0);
    const rawStatus = query.get('status');
    const group = rawStatus === null || rawStatus === '' ? undefined : STATUS_GROUPS.get(rawStatus);
    if (rawStatus && group === undefined) throw new HttpError(400, 'status must be one of active, completed, failed, stopped');
    const ofKind = KIND_FILTERS.get(query.get('filter') || 'all');
    if (ofKind === undefined) throw new HttpError(400, 'filter must be one of all, tasks, batch');
    const mine = tasks.ownedBy(userId);
    const page = [];
    let matched = 0;
    // Newest first, stopping one past the page: O(offset + limit) without a filter, not O(all tasks). The
    // real API documents no order; newest first keeps paging consistent as tasks are added (a page can
    // repeat a task of the page before it, never skip one).
    for (let i = mine.length - 1; i >= 0 && matched <= offset + limit; i--) {
      const task = mine[i] as CloudTaskRecord;
      if (!ofKind(task) || (group !== undefined && !group.has(cloudTimeline(task, nowMs).status))) continue;
      if (matched >= offset && matched < offset + limit) page.push(cloudView(task, nowMs));
      matched++;
    }
    const response: CloudListTasksResponse = { tasks: page, hasMore: matched > offset + limit, offset, limit };
    return ok(response);
  };

  const get: Handler = (context) => ok({ task: cloudView(ownTask(context), context.nowMs) } satisfies CloudTaskResponse);

  const status: Handler = (context) => ok(cloudStatus(ownTask(context), context.nowMs));

  const stop: Handler = (context) => {
    const body = parseJsonObject(context.body);
    if (body['action'] !== 'stop') throw new HttpError(400, 'Invalid action: only "stop" is supported');
    ledger.stopped(context.id);
    const task = ownTask(context);
    if (!isCloudStoppable(cloudTimeline(task, context.nowMs).status)) throw new HttpError(400, 'Task is not in progress');
    ledger.stopAccepted(context.id);
    task.stoppedAtMs = context.nowMs;
    const at = new Date(context.nowMs).toISOString();
    const response: CloudStopResponse = {
      message: 'Task stopped successfully',
      task: { id: task.id, userId: task.userId, status: 'stopped', error: 'Task was stopped by user', updatedAt: at, completedAt: at },
    };
    return ok(response);
  };

  const continueTask: Handler = (context) => {
    const body = parseJsonObject(context.body);
    const hint = parseHint(requiredText(body, 'currentPrompt'), CLOUD_OUTCOMES);
    optionalText(body, 'selectedAgent');
    optionalText(body, 'selectedModel');
    const task = ownTask(context);
    task.earlierLogs = cloudLogsAt(config.seed, task, context.nowMs);
    // A new phase straight at `processing`, whatever the task was doing: stopped and done tasks resume.
    task.phaseStartMs = context.nowMs;
    task.pendingMs = 0;
    task.durationMs = hint.durationMs ?? config.defaultDurationMs;
    task.outcome = hint.outcome ?? config.defaultCloudOutcome;
    task.stoppedAtMs = null;
    const response: CloudContinueResponse = { success: true, message: 'Task continued successfully' };
    return ok(response);
  };

  return {
    'cloud.create': create,
    'cloud.list': list,
    'cloud.get': get,
    'cloud.status': status,
    'cloud.stop': stop,
    'cloud.continue': continueTask,
    'cloud.stream': cloudStreamHandler(config.seed, ownTask),
  } as const satisfies Record<string, Handler>;
}
