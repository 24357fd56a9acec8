/**
 * The examples run: each one is started as a real child process (`node --import tsx examples/x.ts`),
 * as a user would from a fresh clone, and must exit 0 with its summary. The HTTP service is also driven
 * from here: requests over loopback, then a real SIGTERM, against a simulator in this process so that the
 * test can check on the server side that every run it started ended.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { startNode, stopAll, until, type NodeChild } from '../tools/child.js';

/** Room for tsx start-up and a busy machine; each example finishes in a few seconds on its own. */
const EXAMPLE_TIMEOUT_MS = 60_000;
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'interrupted']);
/** A fresh clone has none of these set: the example then starts its own simulator. */
const CLONE_UNSET = /^(TASKGUARD_BASE_URL|BLACKBOX_API_KEY|BLACKBOX_CLOUD_API_KEY)$/;

const simulators: Simulator[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

function startExample(file: string, options: { args?: string[]; env?: Record<string, string> } = {}): NodeChild {
  return startNode(`examples/${file}`, { args: options.args ?? [], env: { NO_COLOR: '1', ...options.env }, dropEnv: CLONE_UNSET });
}

/** Runs an example to its end; fails with its output when it does not exit 0. */
async function runToEnd(file: string): Promise<string[]> {
  const example = startExample(file);
  const { code, signal } = await example.exited;
  const output = `${example.lines.join('\n')}\n--- stderr ---\n${example.stderr}`;
  expect({ code, signal }, output).toEqual({ code: 0, signal: null });
  return example.lines;
}

function expectLine(lines: readonly string[], pattern: RegExp): void {
  expect(lines.some((line) => pattern.test(line)), `no line matches ${pattern}:\n${lines.join('\n')}`).toBe(true);
}

describe('examples/job-worker.ts', () => {
  it(
    'processes the queue 3 jobs at a time with per-job deadlines, and exits 0 with nothing left running',
    async () => {
      const lines = await runToEnd('job-worker.ts');
      const outcome = (name: string): string | undefined => lines.find((line) => line.startsWith(`job ${name} `))?.replace(/\s+\(\d+ ms\)$/, '');
      expect(outcome('changelog')).toMatch(/agent completed$/);
      expect(outcome('flaky-test')).toMatch(/cloud completed$/);
      expect(outcome('lint')).toMatch(/agent completed$/);
      expect(outcome('docs')).toMatch(/cloud completed$/);
      expect(outcome('release-notes')).toMatch(/agent failed$/);
      expect(outcome('big-refactor')).toMatch(/agent timed out$/);
      expect(outcome('migration')).toMatch(/cloud timed out$/);
      expect(outcome('typo')).toMatch(/agent expired in queue$/);
      expectLine(lines, /^jobs: 8 done in \d+ ms, at most 3 at once: completed 4, failed 1, timed out 2, expired in queue 1, cancelled 0, error 0$/);
      expectLine(lines, /^left running at shutdown: 0$/);
      expectLine(lines, /^server side: 7 tasks, 0 still running$/);
    },
    EXAMPLE_TIMEOUT_MS,
  );
});

describe('examples/agent-pipeline.ts', () => {
  it(
    'completes one pipeline, cancels the rest of one whose step failed and of one past its deadline',
    async () => {
      const lines = await runToEnd('agent-pipeline.ts');
      expectLine(lines, /^pipeline release-notes: completed — 4 steps; completed: plan, (implement, tests|tests, implement), review \(\d+ ms\)$/);
      expectLine(lines, /^pipeline flaky-tests: failed — step "tests" ended failed \(failed\); completed: plan; cancelled: implement \(\d+ ms\)$/);
      expectLine(lines, /^pipeline big-refactor: deadline — the pipeline's budget of 2000 ms ran out; completed: plan, (implement, tests|tests, implement); cancelled: review \(\d+ ms\)$/);
      expectLine(lines, /^server side: 11 runs, 0 still running, 2 cancel requests$/);
    },
    EXAMPLE_TIMEOUT_MS,
  );
});

describe('examples/http-service.ts', () => {
  it(
    'runs its own demo: a run completes, a client gives up, SIGTERM cancels the rest; exits 0 with its report',
    async () => {
      const lines = await runToEnd('http-service.ts');
      expectLine(lines, /^listening on http:\/\/127\.0\.0\.1:\d+$/);
      expectLine(lines, /^client A: 200 completed$/);
      expectLine(lines, /^client B: gave up$/);
      expectLine(lines, /^\s+\[service\] run [\w-]+ cancelled: its client went away$/);
      expectLine(lines, /^client C: 503 cancelled$/);
      expectLine(lines, /^client D: 503 cancelled$/);
      expectLine(lines, /^shutdown: cancelled 2 runs, 0 already done, 0 failed, 0 unconfirmed, in \d+ ms$/);
      expectLine(lines, /^runs: started 4, completed 1, cancelled 3, timed out 0, other 0$/);
      expectLine(lines, /^server side: 4 runs, 0 still running$/);
    },
    EXAMPLE_TIMEOUT_MS,
  );

  it(
    'serves requests against TASKGUARD_BASE_URL, and on SIGTERM cancels every run in flight and exits 0',
    async () => {
      const sim = await createSimulator({ queuedMs: 20 });
      simulators.push(sim);
      const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
      const service = startExample('http-service.ts', {
        args: ['--serve'],
        env: { TASKGUARD_BASE_URL: sim.url, BLACKBOX_API_KEY: sim.agentKey },
      });
      const [, url = ''] = await service.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/, 20_000);
      const post = (body: unknown, signal?: AbortSignal): Promise<Response> =>
        fetch(`${url}/runs`, { method: 'POST', body: JSON.stringify(body), ...(signal && { signal }) });

      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      // A run that completes, an invalid request, and a run that passes its deadline.
      const completed = await post({ prompt: 'Quick one [sim:duration=150]' });
      expect(completed.status).toBe(200);
      expect(await completed.json()).toMatchObject({ outcome: 'completed', status: 'completed' });
      const invalid = await post({ prompt: '' });
      expect(invalid.status).toBe(400);
      const late = await post({ prompt: 'Too slow [sim:duration=never]', timeoutMs: 300 });
      expect(late.status).toBe(504);
      const lateBody = (await late.json()) as { runId: string; outcome: string };
      expect(lateBody.outcome).toBe('timed_out');
      expect(sim.getAgentRun(lateBody.runId)?.status).toBe('cancelled');

      // A client that goes away: its run is cancelled, once.
      const leaving = new AbortController();
      const left = post({ prompt: 'Abandoned [sim:duration=never]' }, leaving.signal).catch((error: unknown) => error);
      await until(async () => (await agent.listTasks({ status: 'running' })).tasks.length === 1, 'the abandoned run is running');
      const [abandoned] = (await agent.listTasks({ status: 'running' })).tasks;
      leaving.abort();
      expect(await left).toBeInstanceOf(Error);
      await until(() => sim.getAgentRun(abandoned!.runId)?.status === 'cancelled', 'the abandoned run is cancelled');

      // Two requests waiting on runs that never end, then SIGTERM.
      const waiting = [post({ prompt: 'Long one [sim:duration=never]' }), post({ prompt: 'Another [sim:duration=never]' })];
      await until(async () => (await agent.listTasks({ status: 'running' })).tasks.length === 2, 'two runs are running');
      service.child.kill('SIGTERM');

      const answers = await Promise.all(waiting);
      expect(answers.map((a) => a.status)).toEqual([503, 503]);
      for (const answer of answers) expect(await answer.json()).toMatchObject({ outcome: 'cancelled', status: 'cancelled' });
      const { code, signal } = await service.exited;
      expect({ code, signal }, `${service.lines.join('\n')}\n${service.stderr}`).toEqual({ code: 0, signal: null });
      expectLine(service.lines, /^shutdown: cancelled 2 runs, 0 already done, 0 failed, 0 unconfirmed, in \d+ ms$/);
      expectLine(service.lines, /^runs: started 5, completed 1, cancelled 3, timed out 1, other 0$/);

      // On the server: every run the service started has ended, and no run was cancelled twice.
      const { tasks } = await agent.listTasks({ limit: 100 });
      expect(tasks).toHaveLength(5);
      expect(tasks.filter((run) => !TERMINAL.has(run.status))).toEqual([]);
      expect(tasks.filter((run) => run.status === 'cancelled')).toHaveLength(4);
      expect([...sim.ledger.cancels.values()]).toEqual([1, 1, 1, 1]);
    },
    EXAMPLE_TIMEOUT_MS,
  );
});
