/**
 * Liveness, end to end: scripts that never call `process.exit` run in a real child process against the
 * embedded simulator. Exit code 0 with every line printed means the manager kept the process alive while
 * it tracked tasks (an event loop drained early ends an awaiting ES module with 13 instead) and let it go
 * afterwards (a timer, listener or socket left behind would keep it running until the test's limit).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { startNode, stopAll, type NodeChild } from '../tools/child.js';
import { simulatorEnv } from './fixtures/protocol.js';

/** A hang fails the test at this limit; no test asserts on a shorter duration. */
const EXIT_LIMIT_MS = 20_000;

let sim: Simulator;

beforeEach(async () => {
  sim = await createSimulator({ queuedMs: 20 });
});

afterEach(async () => {
  await stopAll();
  await sim.close();
});

function startScript(mode: string, ids: { agent?: readonly string[]; cloud?: readonly string[] } = {}): NodeChild {
  return startNode('test/fixtures/await-tasks.ts', {
    env: {
      TG_MODE: mode,
      ...simulatorEnv(sim),
      TG_AGENT_IDS: (ids.agent ?? []).join(','),
      TG_CLOUD_IDS: (ids.cloud ?? []).join(','),
    },
  });
}

function json<T>(child: NodeChild, tag: string): T {
  const line = child.tagged(tag)[0];
  if (line === undefined) throw new Error(`no ${tag} line\n${child.describe()}`);
  return JSON.parse(line) as T;
}

interface Result {
  kind: string;
  id: string;
  outcome: string;
  status: string | null;
  error?: string;
}

describe('liveness of a process that uses a TaskManager', () => {
  it('stays alive while its short tasks are tracked and exits by itself with 0 once they are done', async () => {
    const runs = [300, 550, 800].map((durationMs) => sim.createAgentRun({ durationMs }).runId);
    const tasks = [400, 700].map((durationMs) => sim.createCloudTask({ durationMs }).task.id);
    const child = startScript('await', { agent: runs, cloud: tasks });

    const exit = await child.waitForExit(EXIT_LIMIT_MS);

    expect(exit, child.describe()).toMatchObject({ code: 0, signal: null });
    expect(json<{ tracked: number }>(child, 'TRACKING').tracked).toBe(5);
    const results = json<Result[]>(child, 'RESULTS');
    expect(results.map((r) => [r.id, r.outcome, r.status])).toEqual([
      ...runs.map((id) => [id, 'completed', 'completed']),
      ...tasks.map((id) => [id, 'completed', 'completed']),
    ]);
    expect(json(child, 'STATS')).toMatchObject({ tracked: 0, timersArmed: 0, requests: 0 });
    expect(child.tagged('END')).toHaveLength(1);
    // Tasks that end on their own are never cancelled.
    expect(sim.ledger.cancels.size + sim.ledger.stops.size).toBe(0);
    expect(child.stderr).toBe('');
  });

  it('exits by itself with 0 after close() when its manager hooks the signals and tracked nothing', async () => {
    const child = startScript('close-idle');

    const exit = await child.waitForExit(EXIT_LIMIT_MS);

    expect(exit, child.describe()).toMatchObject({ code: 0, signal: null });
    expect(json<{ tracked: number; sigterm: number }>(child, 'TRACKING')).toEqual({ tracked: 0, sigterm: 1 });
    expect(json(child, 'RESULTS')).toEqual([]);
    expect(child.tagged('END')).toHaveLength(1);
    expect(sim.ledger.requests).toBe(0);
  });

  it('exits by itself with 0 after close() although a never-ending run was still tracked, without cancelling it', async () => {
    const runs = [sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY }).runId];
    const child = startScript('close-tracking', { agent: runs });

    const exit = await child.waitForExit(EXIT_LIMIT_MS);

    expect(exit, child.describe()).toMatchObject({ code: 0, signal: null });
    const results = json<Result[]>(child, 'RESULTS');
    expect(results).toEqual([expect.objectContaining({ id: runs[0], outcome: 'error', error: 'ManagerClosedError' })]);
    expect(json(child, 'STATS')).toMatchObject({ tracked: 0, timersArmed: 0, requests: 0 });
    expect(child.tagged('END')).toHaveLength(1);
    // close() lets go of tasks; only shutdown() cancels them.
    expect(sim.ledger.cancels.size).toBe(0);
    expect(sim.getAgentRun(runs[0]!)?.status).not.toBe('cancelled');
  });

  it('exits by itself with 0 after calling shutdown() itself, having cancelled every never-ending task', async () => {
    const runs = [1, 2].map(() => sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY }).runId);
    const child = startScript('shutdown-call', { agent: runs });

    const exit = await child.waitForExit(EXIT_LIMIT_MS);

    // `exit: true` applies to signals only: a shutdown the program asked for leaves the exit to it.
    expect(exit, child.describe()).toMatchObject({ code: 0, signal: null });
    const report = json<{ settled: Result[]; unconfirmed: unknown[] }>(child, 'REPORT');
    expect(report.unconfirmed).toEqual([]);
    expect(report.settled.map((r) => r.outcome)).toEqual(['cancelled', 'cancelled']);
    for (const id of runs) expect(sim.ledger.cancels.get(id), `cancels of ${id}`).toBe(1);
    expect(child.tagged('END')).toHaveLength(1);
  });
});

describe('errors of a process whose manager hooks the signals', () => {
  for (const [mode, what, message] of [
    ['throw', 'an uncaught exception', 'fixture failure: uncaught exception from a timer'],
    ['reject', 'an unhandled rejection', 'fixture failure: unhandled rejection'],
  ] as const) {
    it(`does not swallow ${what}: the process exits non-zero with the error on stderr`, async () => {
      const runs = [sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY }).runId];
      const child = startNode('test/fixtures/uncaught.ts', {
        env: {
          TG_MODE: mode,
          ...simulatorEnv(sim),
          TG_AGENT_IDS: runs.join(','),
        },
      });

      const exit = await child.waitForExit(EXIT_LIMIT_MS);

      expect(json<{ sigterm: number }>(child, 'READY').sigterm).toBe(1);
      expect(exit.signal, child.describe()).toBeNull();
      expect(exit.code, child.describe()).not.toBe(0);
      expect(exit.code).not.toBeNull();
      expect(child.stderr).toContain(message);
    });
  }
});
