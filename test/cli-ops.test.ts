/**
 * The operations commands of the CLI — list, run, logs, cancel-all --active, fleet — as the real binary
 * in a child process (`node --import tsx src/cli/index.ts …`) against an in-process simulator, with the
 * keys and base URL passed per test and no BLACKBOX_* or TASKGUARD_* variable inherited; `fleet` against
 * a real redis-server that RedisStore-backed managers write to. The y/N question of `cancel-all --active`
 * needs a terminal, so that test runs the program in-process with a fake one.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { describe, it, type TestContext } from 'vitest';
import { AgentClient, RedisStore, TaskManager } from '../src/index.js';
import { runCli } from '../src/cli/program.js';
import { until } from '../tools/child.js';
import { startCli, taskguard } from './helpers/cli.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { startRedisServer } from './helpers/redis-server.js';

/**
 * A simulator for one test, closed when the test ends, with keys of its own and one other user. Its task
 * clock runs with real time plus what `advance` adds, so a test can end a run once it has seen it live,
 * however slowly a loaded machine starts the child.
 */
async function simulator({ onTestFinished }: Pick<TestContext, 'onTestFinished'>) {
  const agentKey = `sk-ops-test-${randomBytes(8).toString('hex')}`;
  const cloudKey = `bb_ops_test_${randomBytes(8).toString('hex')}`;
  const otherKey = `sk-someone-else-${randomBytes(8).toString('hex')}`;
  let offset = 0;
  const sim = await createSimulator({ agentKey, cloudKey, extraAgentKeys: [otherKey], queuedMs: 0, now: () => Date.now() + offset });
  onTestFinished(() => sim.close());
  const env = { BLACKBOX_API_KEY: agentKey, BLACKBOX_CLOUD_API_KEY: cloudKey, TASKGUARD_BASE_URL: sim.url };
  return { sim, env, otherKey, advance: (ms: number) => (offset += ms) };
}


const longRun = (sim: Simulator) => sim.createAgentRun({ durationMs: 60_000 }).runId;
const doneRun = (sim: Simulator) => sim.createAgentRun({ durationMs: 0 }).runId;
const longTask = (sim: Simulator) => sim.createCloudTask({ durationMs: 60_000 }).task.id;
const doneTask = (sim: Simulator) => sim.createCloudTask({ durationMs: 0 }).task.id;
const startedRef = (stdout: string) => /^started (agent|cloud):(\S+)$/m.exec(stdout)?.[2] ?? '';

describe.concurrent('taskguard list', () => {
  it('lists the runs and tasks of both kinds when both keys are set, one row each', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const [running, finished, task] = [longRun(sim), doneRun(sim), longTask(sim)];
    const ran = await taskguard(['list'], env);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toMatch(/^ref\s+status\s+created\s+prompt \/ model$/m);
    expect(ran.stdout).toMatch(new RegExp(`^agent:${running}\\s+running\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ`, 'm'));
    expect(ran.stdout).toMatch(new RegExp(`^agent:${finished}\\s+completed\\s`, 'm'));
    expect(ran.stdout).toMatch(new RegExp(`^cloud:${task}\\s+processing\\s+.*Simulated task$`, 'm'));
  });

  it('lists only the active ones with --status active, and only one kind with --kind', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const [running, finished, task, ended] = [longRun(sim), doneRun(sim), longTask(sim), doneTask(sim)];
    const [active, agents] = await Promise.all([taskguard(['list', '--status', 'active'], env), taskguard(['list', '--kind', 'agent', '--status', 'completed'], env)]);
    expect(active.code).toBe(0);
    expect(active.stdout).toContain(`agent:${running}`);
    expect(active.stdout).toContain(`cloud:${task}`);
    expect(active.stdout).not.toContain(finished);
    expect(active.stdout).not.toContain(ended);
    expect(agents.code).toBe(0);
    expect(agents.stdout).toContain(`agent:${finished}`);
    expect(agents.stdout).not.toContain('cloud:');
    expect(agents.stdout).not.toContain(running);
  });

  it('prints list --json as one document, pages up to --limit and says when there are more', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runs = Array.from({ length: 5 }, () => longRun(sim));
    const ran = await taskguard(['list', '--json', '--kind', 'agent', '--limit', '3'], env);
    expect(ran.code).toBe(0);
    const doc = JSON.parse(ran.stdout) as { kinds: string[]; hasMore: Record<string, boolean>; tasks: { ref: string; kind: string; status: string; state: string }[] };
    expect(doc.kinds).toEqual(['agent']);
    expect(doc.hasMore).toEqual({ agent: true });
    expect(doc.tasks).toHaveLength(3);
    for (const task of doc.tasks) expect(task).toMatchObject({ kind: 'agent', status: 'running', state: 'running' });
    for (const task of doc.tasks) expect(runs).toContain(task.ref.slice('agent:'.length));
    const all = JSON.parse((await taskguard(['list', '--json', '--limit', '2'], env)).stdout) as { tasks: unknown[]; hasMore: object };
    expect(all.tasks).toHaveLength(2);
    expect(all.hasMore).toEqual({ agent: true, cloud: false });
  });

  it('lists the one kind whose key is set, says so on stderr, and exits 2 when no key is set', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    longTask(sim);
    const [agentOnly, none] = await Promise.all([
      taskguard(['list'], { BLACKBOX_API_KEY: env.BLACKBOX_API_KEY, TASKGUARD_BASE_URL: sim.url }),
      taskguard(['list'], { TASKGUARD_BASE_URL: sim.url }),
    ]);
    expect(agentOnly.code).toBe(0);
    expect(agentOnly.stdout).toContain(`agent:${runId}`);
    expect(agentOnly.stdout).not.toContain('cloud:');
    expect(agentOnly.stderr).toBe('cloud: not listed (BLACKBOX_CLOUD_API_KEY is not set)\n');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^taskguard: nothing to list \(agent: BLACKBOX_API_KEY is not set; cloud: BLACKBOX_CLOUD_API_KEY is not set\)/);
  });
});

describe.concurrent('taskguard run', () => {
  it('creates a run, watches it to completion and exits 0, and does the same for a cloud task with --json', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const [agent, cloud] = await Promise.all([
      taskguard(['run', 'Write the docs [sim:duration=300]', '--interval', '100ms', '--timeout', '30s'], env),
      taskguard(['run', 'Fix the flaky test [sim:duration=300]', '--cloud', '--interval', '100ms', '--json'], env),
    ]);
    expect(agent.code).toBe(0);
    const runId = startedRef(agent.stdout);
    expect(agent.stdout).toMatch(new RegExp(`^agent:${runId} completed after \\S+ \\(status completed\\)$`, 'm'));
    expect(sim.getAgentRun(runId)).toMatchObject({ status: 'completed', prompt: 'Write the docs [sim:duration=300]', cancelledAtMs: null });
    expect(cloud.code).toBe(0);
    const doc = JSON.parse(cloud.stdout) as { ref: string; id: string; outcome: string; status: string; exitCode: number };
    expect(doc).toMatchObject({ outcome: 'completed', status: 'completed', exitCode: 0 });
    expect(sim.getCloudTask(doc.id)?.status).toBe('completed');
    expect(sim.ledger.byRoute.get('agent.create')).toBe(1);
    expect(sim.ledger.byRoute.get('cloud.create')).toBe(1);
  });

  it('exits 124 from run when the deadline passes, and the run is cancelled on the server exactly once', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const ran = await taskguard(['run', 'Refactor everything [sim:duration=60000]', '--timeout', '300ms', '--interval', '100ms'], env);
    expect(ran.code).toBe(124);
    const runId = startedRef(ran.stdout);
    expect(ran.stdout).toContain(`deadline passed: cancelling agent:${runId}`);
    expect(ran.stdout).toMatch(new RegExp(`^agent:${runId} timed out after \\S+ \\(status cancelled; cancelled at its 300ms deadline\\)$`, 'm'));
    expect(sim.ledger.cancels.get(runId)).toBe(1);
    expect(sim.getAgentRun(runId)?.status).toBe('cancelled');
  });

  it('exits 2 from run without a prompt or without the key, and creates nothing', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const [empty, noKey] = await Promise.all([taskguard(['run', ''], env), taskguard(['run', 'Hello', '--cloud'], { TASKGUARD_BASE_URL: sim.url })]);
    expect(empty.code).toBe(2);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^taskguard: BLACKBOX_CLOUD_API_KEY is not set/);
    expect(sim.ledger.requests).toBe(0);
  });
});

describe.concurrent('taskguard logs', () => {
  it("prints a finished run's events as lines and ends with a count, and a cloud task's log lines", async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = doneRun(sim);
    const taskId = doneTask(sim);
    const [agent, cloud] = await Promise.all([taskguard(['logs', runId], env), taskguard(['logs', `cloud:${taskId}`], env)]);
    expect(agent).toMatchObject({ code: 0, stderr: '' });
    const lines = agent.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('· session started');
    expect(lines).toContain('· result: Done (simulated).');
    expect(lines.some((line) => line.startsWith('→ '))).toBe(true);
    expect(lines.at(-2)).toBe('· finish: completed');
    expect(lines.at(-1)).toMatch(new RegExp(`^agent:${runId}: \\d+ events, status completed$`));
    expect(cloud).toMatchObject({ code: 0, stderr: '' });
    expect(cloud.stdout).toMatch(/^\[system\] Task queued\n\[info\] Sandbox ready\n/);
    expect(cloud.stdout).toMatch(/^\[success\] .+\n· status completed\n· complete: completed \(\d+ logs\)\n/m);
    expect(sim.ledger.byRoute.get('agent.logs')).toBe(1);
  });

  it('prints what a live cloud task has logged so far and returns, while the task runs on', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const taskId = longTask(sim);
    const ran = await taskguard(['logs', `cloud:${taskId}`], env);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toMatch(/^\[system\] Task queued\n\[info\] Sandbox ready\n/);
    expect(ran.stdout).not.toContain('complete');
    expect(ran.stdout).toMatch(new RegExp(`^cloud:${taskId}: \\d+ events, status processing$`, 'm'));
    expect(sim.getCloudTask(taskId)?.status).toBe('processing');
    expect(sim.ledger.stops.size).toBe(0);
  });

  it('prints logs --json as one document with the events as the API sent them', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = doneRun(sim);
    const ran = await taskguard(['logs', `agent:${runId}`, '--json'], env);
    expect(ran.code).toBe(0);
    const doc = JSON.parse(ran.stdout) as { ref: string; status: string; events: { type: string }[] };
    expect(doc).toMatchObject({ ref: `agent:${runId}`, status: 'completed' });
    expect(doc.events[0]?.type).toBe('session-init');
    expect(doc.events.at(-1)).toEqual({ type: 'finish', runId, status: 'completed' });
    expect(doc.events.some((event) => event.type === 'text-delta')).toBe(true);
  });

  it('follows a live run with logs --follow until it ends, and prints JSON Lines with --json', async ({ expect, onTestFinished }) => {
    const { sim, env, advance } = await simulator({ onTestFinished });
    const text = longRun(sim);
    const json = sim.createAgentRun({ durationMs: 60_000, outcome: 'failed' }).runId;
    const followed = startCli(['logs', text, '--follow'], env);
    const lines = startCli(['logs', json, '--follow', '--json'], env);
    await Promise.all([followed.waitFor(/^· session started$/m), lines.waitFor(/"type":"session-init"/)]);
    expect(sim.getAgentRun(text)?.status).toBe('running');
    advance(60_000);
    const [ended, endedJson] = await Promise.all([followed.exited, lines.exited]);
    expect(ended).toMatchObject({ code: 0, stderr: '' });
    expect(ended.stdout).toMatch(/^· session started\n/);
    expect(ended.stdout).toMatch(/\n· result: Done \(simulated\)\.\n· finish: completed\n$/);
    expect(endedJson.code).toBe(0);
    const events = endedJson.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string });
    expect(events[0]?.type).toBe('session-init');
    expect(events.find((event) => event.type === 'error')).toBeDefined();
    expect(events.at(-1)).toEqual({ type: 'finish', runId: json, status: 'failed' });
    expect(sim.ledger.byRoute.get('agent.stream')).toBe(2);
  });

  it("follows a live cloud task's stream with logs --follow until its complete event", async ({ expect, onTestFinished }) => {
    const { sim, env, advance } = await simulator({ onTestFinished });
    const taskId = longTask(sim);
    const followed = startCli(['logs', `cloud:${taskId}`, '--follow'], env);
    await followed.waitFor(/^\[info\] Sandbox ready$/m);
    advance(60_000);
    const ended = await followed.exited;
    expect(ended).toMatchObject({ code: 0, stderr: '' });
    expect(ended.stdout).toMatch(/^\[system\] Task queued\n/);
    expect(ended.stdout).toMatch(/\n· complete: completed \(\d+ logs\)\n$/);
    expect(sim.ledger.byRoute.get('cloud.stream')).toBe(1);
  });

  it("prints the run's log events beside its status lines with run --logs", async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const ran = await taskguard(['run', 'Tidy up [sim:duration=600]', '--logs', '--interval', '100ms'], env);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    const runId = startedRef(ran.stdout);
    expect(ran.stdout).toMatch(new RegExp(`\\] agent:${runId} in_progress \\(running\\)\\n`));
    expect(ran.stdout).toContain('\n· session started\n');
    expect(ran.stdout).toContain('\n· finish: completed\n');
    expect(ran.stdout).toMatch(new RegExp(`\\n· finish: completed\\n(.*\\n)*agent:${runId} completed after \\S+ \\(status completed\\)\\n$`));
    expect(sim.ledger.byRoute.get('agent.stream')).toBe(1);
  });
});

describe.concurrent('taskguard watch --logs', () => {
  it("prints a watched run's log events as they come, beside its status lines", async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const { runId } = sim.createAgentRun({ durationMs: 600 });
    const ran = await taskguard(['watch', runId, '--logs', '--interval', '100ms'], env);
    expect(ran).toMatchObject({ code: 0, stderr: '' });
    expect(ran.stdout).toContain('\n· finish: completed\n');
    expect(ran.stdout).toMatch(new RegExp(`agent:${runId} completed after \\S+ \\(status completed\\)\\n$`));
    expect(sim.ledger.byRoute.get('agent.stream')).toBe(1);
  });
});

describe.concurrent('taskguard cancel-all --active', () => {
  it('refuses without a terminal and without --yes: exit 2, a message naming --yes, and no request', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const ran = await taskguard(['cancel-all', '--active'], env);
    expect(ran).toMatchObject({ code: 2, stdout: '' });
    expect(ran.stderr).toMatch(/^taskguard: cancel-all --active cancels every active task of the account and asks first, but stdin is not a terminal: pass --yes/);
    expect(sim.ledger.requests).toBe(0);
    expect(sim.getAgentRun(runId)?.status).toBe('running');
  });

  it('cancels exactly the active runs and tasks of the account with --yes, and leaves the rest alone', async ({ expect, onTestFinished }) => {
    const { sim, env, otherKey } = await simulator({ onTestFinished });
    const active = [longRun(sim), longRun(sim)];
    const activeTask = longTask(sim);
    const finished = doneRun(sim);
    const endedTask = doneTask(sim);
    const someoneElses = sim.createAgentRun({ durationMs: 60_000, owner: otherKey }).runId;
    const ran = await taskguard(['cancel-all', '--active', '--yes'], env);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(/^cancelled\s+3$/m);
    expect(ran.stdout).toMatch(/^failed\s+0$/m);
    for (const runId of active) expect([sim.ledger.cancels.get(runId), sim.getAgentRun(runId)?.status]).toEqual([1, 'cancelled']);
    expect([sim.ledger.stops.get(activeTask), sim.getCloudTask(activeTask)?.status]).toEqual([1, 'stopped']);
    expect(sim.ledger.cancels.get(finished)).toBeUndefined();
    expect(sim.ledger.stops.get(endedTask)).toBeUndefined();
    expect([sim.ledger.cancels.get(someoneElses), sim.getAgentRun(someoneElses)?.status]).toEqual([undefined, 'running']);
  });

  it('cancels only the kind given with --kind, and prints --json with a result per task', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const taskId = longTask(sim);
    const ran = await taskguard(['cancel-all', '--active', '--kind', 'cloud', '--yes', '--json'], env);
    expect(ran.code).toBe(0);
    const doc = JSON.parse(ran.stdout) as { counts: object; results: { ref: string; result: string }[] };
    expect(doc.counts).toEqual({ cancelled: 1, alreadyDone: 0, failed: 0 });
    expect(doc.results.map((entry) => [entry.ref, entry.result])).toEqual([[`cloud:${taskId}`, 'cancelled']]);
    expect(sim.ledger.cancels.get(runId)).toBeUndefined();
  });
});

/** A stream that records what is written, posing as a terminal. */
class Terminal extends Writable {
  text = '';
  readonly isTTY = true;
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.text += String(chunk);
    callback();
  }
}

/** The program in-process, with stdin, stdout and stderr posing as a terminal where `answer` is typed. */
function onTerminal(argv: readonly string[], env: Readonly<Record<string, string>>, answer: string) {
  const stdin = Object.assign(Readable.from([answer]), { isTTY: true });
  const stdout = new Terminal();
  const stderr = new Terminal();
  const code = runCli({ argv, env: { ...env, NO_COLOR: '1' }, stdin, stdout, stderr, signals: new EventEmitter() });
  return { code, stdout, stderr };
}

describe.concurrent('taskguard cancel-all --active on a terminal', () => {
  it('lists the active tasks and asks y/N: "n" cancels nothing and exits 1, "y" cancels them', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runs = [longRun(sim), longRun(sim)];
    const declined = onTerminal(['cancel-all', '--active', '--kind', 'agent'], env, 'n\n');
    expect(await declined.code).toBe(1);
    expect(declined.stderr.text).toContain('active tasks of the account (2 agent runs):');
    for (const runId of runs) expect(declined.stderr.text).toContain(`  agent:${runId}  running`);
    expect(declined.stderr.text).toContain('Cancel these 2 tasks? [y/N] ');
    expect(declined.stderr.text).toContain('taskguard: not confirmed: nothing was cancelled');
    expect(sim.ledger.cancels.size).toBe(0);
    const confirmed = onTerminal(['cancel-all', '--active', '--kind', 'agent'], env, 'y\n');
    expect(await confirmed.code).toBe(0);
    for (const runId of runs) expect(sim.ledger.cancels.get(runId)).toBe(1);
  });
});

describe('taskguard fleet', () => {
  it('shows the tasks of a RedisStore registry by worker, with lease age and deadlines, and flags the orphan of a worker gone', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const redis = await startRedisServer();
    onTestFinished(() => redis.dispose());
    const admin = new Redis(redis.url);
    onTestFinished(() => void admin.disconnect());
    const prefix = `ops-${randomBytes(4).toString('hex')}:`;
    const worker = (workerId: string) => {
      const manager = new TaskManager({
        agent: new AgentClient({ apiKey: env.BLACKBOX_API_KEY, baseUrl: sim.url }),
        store: new RedisStore({ url: redis.url, prefix }),
        workerId,
        leaseMs: 60_000,
        poll: { initialMs: 600_000, maxMs: 600_000, factor: 1, jitter: 0 },
      });
      onTestFinished(() => manager.close());
      return manager;
    };
    const live = worker('worker-live');
    const gone = worker('worker-gone');
    await Promise.all([live.ready(), gone.ready()]);
    const [first, second, orphan] = [longRun(sim), longRun(sim), longRun(sim)];
    live.track({ kind: 'agent', id: first }, { timeoutMs: 600_000 });
    live.track({ kind: 'agent', id: second });
    gone.track({ kind: 'agent', id: orphan }, { timeoutMs: 300_000 });
    await until(async () => (await admin.scard(`${prefix}tasks:worker-live`)) === 2 && (await admin.scard(`${prefix}tasks:worker-gone`)) === 1, 'both workers have recorded their tasks');
    await gone.close(); // its lease ends; its task stays in the registry for a recover()

    const args = ['fleet', '--redis', redis.url, '--prefix', prefix];
    const [json, text] = await Promise.all([taskguard([...args, '--json']), taskguard(args)]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      counts: object;
      workers: { workerId: string; alive: boolean; lease: { ageMs: number; ttlMs: number; pid: number } | null; tasks: number }[];
      tasks: { id: string; worker: string; orphan: boolean; deadlineInMs: number | null }[];
    };
    expect(doc.counts).toEqual({ workers: 2, tasks: 3, orphans: 1 });
    expect(doc.workers.map((w) => [w.workerId, w.alive, w.tasks])).toEqual([['worker-gone', false, 1], ['worker-live', true, 2]]);
    const lease = doc.workers[1]!.lease!;
    expect(lease.pid).toBe(process.pid);
    expect(lease.ageMs).toBeGreaterThanOrEqual(0);
    expect(lease.ttlMs).toBeGreaterThan(0);
    expect(lease.ttlMs).toBeLessThanOrEqual(60_000);
    const byId = new Map(doc.tasks.map((task) => [task.id, task]));
    expect(byId.get(orphan)).toMatchObject({ worker: 'worker-gone', orphan: true });
    expect(byId.get(orphan)!.deadlineInMs).toBeGreaterThan(200_000);
    expect(byId.get(first)).toMatchObject({ worker: 'worker-live', orphan: false });
    expect(byId.get(second)).toMatchObject({ worker: 'worker-live', orphan: false, deadlineInMs: null });

    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`registry ${prefix} on ${redis.url}: 2 workers, 3 tasks, 1 orphan`);
    expect(text.stdout).toMatch(/^worker-gone\s+gone\s+1$/m);
    expect(text.stdout).toMatch(/^worker-live\s+alive\s+\S+ ago\s+\S+\s+\S+ pid \d+\s+2$/m);
    expect(text.stdout).toMatch(new RegExp(`^agent:${orphan}\\s+worker-gone\\s+\\S+\\s+\\S+\\s+in \\S+\\s+orphan$`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^agent:${second}\\s+worker-live\\s+\\S+\\s+\\S+\\s+none$`, 'm'));
  });

  it('exits 2 from fleet without a redis:// URL and 1 when Redis cannot be reached', async ({ expect }) => {
    const [missing, wrong, unreachable] = await Promise.all([
      taskguard(['fleet']),
      taskguard(['fleet', '--redis', 'http://127.0.0.1:6379']),
      taskguard(['fleet', '--redis', 'redis://:hunter2@127.0.0.1:1']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--redis <url> or TASKGUARD_REDIS_URL is required');
    expect(wrong.code).toBe(2);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot connect to redis://:***@127.0.0.1:1');
    expect(unreachable.stderr).not.toContain('hunter2');
  });
});
