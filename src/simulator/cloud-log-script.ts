/**
 * The logs of a cloud task: per phase, a small script drawn from the seed, the task ID and the phase's
 * start, placed on the phase's timeline and cut where the clock (or a stop) stands. Logs are numbered
 * from 0 across phases: a continue keeps the earlier phases' logs and numbers the new ones after them.
 * @module
 */
import { cloudError, cloudTimeline, type CloudTaskRecord } from './cloud-tasks.js';
import { Random } from './random.js';

/** The kinds of cloud log entry. */
export type CloudLogType = 'info' | 'error' | 'success' | 'warning' | 'system';

/** One log entry, as the `log` event of the stream carries it. */
export interface CloudLogEntry {
  readonly type: CloudLogType;
  readonly contentType: 'text';
  readonly message: string;
  readonly timestamp: string;
  readonly agent: string;
  /** Its position in its phase, from 1. */
  readonly step: number;
}

interface TimedLog {
  readonly atMs: number;
  readonly type: CloudLogType;
  readonly message: string;
}

/** Over how long the logs of a phase that never ends are spread, in milliseconds. */
const ENDLESS_SPAN_MS = 2000;

const STEPS = ['Installing dependencies', 'Reading the codebase', 'Planning the change', 'Editing files', 'Running the tests', 'Reviewing the diff'];
const WARNINGS = ['A dependency is deprecated', 'The test suite took longer than usual', 'Retrying a flaky network call'];

/** The current phase's logs before its end, in time order (the timeline's boundaries as in `cloudTimeline`). */
function phaseScript(seed: number, task: CloudTaskRecord): TimedLog[] {
  const random = Random.forKey(seed, `cloud-script:${task.id}:${task.phaseStartMs}`);
  const startMs = task.phaseStartMs;
  const endMs = startMs + task.durationMs;
  const processingMs = startMs + task.pendingMs;
  const savingMs = Math.max(processingMs, endMs - task.savingMs);
  const body: Omit<TimedLog, 'atMs'>[] = [];
  if (task.repoUrl !== null) body.push({ type: 'info', message: `Cloning ${task.repoUrl}` });
  for (let n = random.int(2, 4); n > 0; n--) body.push({ type: 'info', message: random.pick(STEPS) });
  if (random.next() < 0.5) body.push({ type: 'warning', message: random.pick(WARNINGS) });
  const spanMs = Number.isFinite(savingMs) ? savingMs - processingMs : ENDLESS_SPAN_MS;
  const logs: TimedLog[] = [
    { atMs: startMs, type: 'system', message: task.earlierLogs.length > 0 ? 'Task continued' : 'Task queued' },
    { atMs: processingMs, type: 'info', message: 'Sandbox ready' },
    ...body.map((log, i) => ({ ...log, atMs: processingMs + (spanMs * (i + 1)) / (body.length + 1) })),
  ];
  if (Number.isFinite(endMs)) logs.push({ atMs: savingMs, type: 'info', message: 'Saving changes' });
  return logs;
}

/** Every log of the task by `nowMs`, the earlier phases' first, ending with the outcome's once the task is done. */
export function cloudLogsAt(seed: number, task: CloudTaskRecord, nowMs: number): CloudLogEntry[] {
  const at = cloudTimeline(task, nowMs);
  const cutoffMs = at.completedAtMs ?? nowMs;
  const logs = phaseScript(seed, task).filter((log) => log.atMs <= cutoffMs);
  if (at.completedAtMs !== null) {
    const endMs = at.completedAtMs;
    if (at.status === 'completed') logs.push({ atMs: endMs, type: 'success', message: 'Task completed' });
    else logs.push({ atMs: endMs, type: at.status === 'stopped' ? 'warning' : 'error', message: cloudError(at.status) ?? at.status });
  }
  const agent = task.selectedAgent ?? 'claude';
  const phase = logs.map((log, i): CloudLogEntry => ({ type: log.type, contentType: 'text', message: log.message, timestamp: new Date(log.atMs).toISOString(), agent, step: i + 1 }));
  return [...task.earlierLogs, ...phase];
}
