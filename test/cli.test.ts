/**
 * The CLI: the real binary in a child process (`node --import tsx src/cli/index.ts …`) against an
 * in-process simulator, with the keys and base URL passed per test in the environment and no
 * BLACKBOX_* or TASKGUARD_* variable inherited; plus the program in-process with fake terminals, for
 * what needs a TTY (colour, the live line, the progress bar) or a signal.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { describe, it, type TestContext } from 'vitest';
import { AgentClient } from '../src/index.js';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { parseDuration } from '../src/cli/durations.js';
import { parseRef, parseRefLines } from '../src/cli/refs.js';
import { runCli } from '../src/cli/program.js';
import { until } from '../tools/child.js';
import { startCli, taskguard } from './helpers/cli.js';
import { sendJson, startTestServer } from './helpers/clients-http.js';

/**
 * A simulator for one test, closed when the test ends, with keys of its own. Its task clock runs with
 * real time plus what `advance` adds, so a test can end a run when it has seen it running, however
 * slowly a loaded machine starts the child.
 */
async function simulator({ onTestFinished }: Pick<TestContext, 'onTestFinished'>): Promise<{ sim: Simulator; env: Record<string, string>; advance: (ms: number) => void }> {
  const agentKey = `sk-cli-test-${randomBytes(8).toString('hex')}`;
  const cloudKey = `bb_cli_test_${randomBytes(8).toString('hex')}`;
  let offset = 0;
  const sim = await createSimulator({ agentKey, cloudKey, queuedMs: 0, now: () => Date.now() + offset });
  onTestFinished(() => sim.close());
  const env = { BLACKBOX_API_KEY: agentKey, BLACKBOX_CLOUD_API_KEY: cloudKey, TASKGUARD_BASE_URL: sim.url };
  return { sim, env, advance: (ms) => (offset += ms) };
}


const longRun = (sim: Simulator) => sim.createAgentRun({ durationMs: 60_000 }).runId;
const longTask = (sim: Simulator) => sim.createCloudTask({ durationMs: 60_000 }).task.id;

describe.concurrent('the taskguard binary', () => {
  it('prints the status of a run, and with --json prints one document that parses', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const text = await taskguard(['status', runId], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`agent:${runId}  in_progress (running)`);
    const json = await taskguard(['status', `cloud:${longTask(sim)}`, '--json'], env);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ kind: 'cloud', state: 'running', status: 'processing', response: { isDone: false } });
  });

  it('cancels an agent run once with cancel, and stops a cloud task once with stop', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const taskId = longTask(sim);
    const [cancel, stop] = await Promise.all([taskguard(['cancel', runId], env), taskguard(['stop', `cloud:${taskId}`, '--json'], env)]);
    expect(cancel).toMatchObject({ code: 0, stdout: `cancelled agent:${runId} (status cancelled)\n` });
    expect(stop.code).toBe(0);
    expect(JSON.parse(stop.stdout)).toEqual({ ref: `cloud:${taskId}`, kind: 'cloud', id: taskId, result: 'cancelled', state: 'cancelled', status: 'stopped' });
    expect(sim.ledger.cancels.get(runId)).toBe(1);
    expect(sim.ledger.stops.get(taskId)).toBe(1);
    expect(sim.getAgentRun(runId)?.status).toBe('cancelled');
  });

  it('cancels every run and task listed on stdin exactly once, skipping blank lines and comments', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runs = [longRun(sim), longRun(sim), longRun(sim)];
    const taskId = longTask(sim);
    const input = ['# runs of worker 3', runs[0], '', `agent:${runs[1]}   # the big one`, `  ${runs[2]}  `, `cloud:${taskId}`, runs[0], ''].join('\n');
    const ran = await taskguard(['cancel-all', '--concurrency', '2'], env, input);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    for (const runId of runs) expect(sim.ledger.cancels.get(runId)).toBe(1);
    expect(sim.ledger.stops.get(taskId)).toBe(1);
    expect(ran.stdout).toMatch(/^cancelled\s+4$/m);
    expect(ran.stdout).toMatch(/^failed\s+0$/m);
    expect(ran.stdout).toContain('1 repeated ref cancelled once');
    // Without a terminal: a plain line per ref as it finishes, before the summary.
    for (const runId of runs) expect(ran.stdout).toMatch(new RegExp(`^cancelled\\s+agent:${runId}\\s+status cancelled$`, 'm'));
  });

  it('exits 1 when a ref of cancel-all fails, and names that ref in the summary', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const done = sim.createAgentRun({ durationMs: 0 }).runId;
    const ran = await taskguard(['cancel-all', runId, 'agent:no-such-run', done], env);
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/^cancelled\s+1$/m);
    expect(ran.stdout).toMatch(/^already done\s+1$/m);
    expect(ran.stdout).toMatch(/^failed\s+1$/m);
    expect(ran.stdout).toMatch(/^agent:no-such-run\s+404 PATCH \/api\/v1\/tasks\/no-such-run: /m);
    expect(sim.ledger.cancels.get(runId)).toBe(1);
  });

  it('prints cancel-all --json as one document with a result per ref in input order', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const ran = await taskguard(['cancel-all', '--json'], env, `cloud:no-such-task\n${runId}\n`);
    expect(ran.code).toBe(1);
    const doc = JSON.parse(ran.stdout) as { counts: object; results: { ref: string; result: string; error?: { status?: number } }[] };
    expect(doc.counts).toEqual({ cancelled: 1, alreadyDone: 0, failed: 1 });
    expect(doc.results.map((r) => [r.ref, r.result])).toEqual([['cloud:no-such-task', 'failed'], [`agent:${runId}`, 'cancelled']]);
    expect(doc.results[0]?.error?.status).toBe(404);
  });

  it('refuses a key on the command line with exit 2, sends no request and never echoes it', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const secret = 'sk-on-the-command-line-9f8e7d';
    const attempts = [
      ['status', runId, `--api-key=${secret}`],
      ['cancel', '--key', secret, runId],
      ['cancel-all', runId, `--token=${secret}`, '--json'],
      ['simulate', '--cloud-api-key', secret],
    ];
    const ran = await Promise.all(attempts.map((args) => taskguard(args, env)));
    for (const result of ran) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/is not accepted: API keys are read only from the environment \(BLACKBOX_API_KEY .*BLACKBOX_CLOUD_API_KEY/);
      expect(result.stdout + result.stderr).not.toContain(secret);
    }
    expect(JSON.parse(ran[2]!.stdout)).toMatchObject({ error: { name: 'UsageError', exitCode: 2 } });
    expect(sim.ledger.requests).toBe(0);
  });

  it('names the environment variable of a missing key and exits 2 without a request', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const [agent, cloud, both] = await Promise.all([
      taskguard(['status', longRun(sim)], { TASKGUARD_BASE_URL: env.TASKGUARD_BASE_URL! }),
      taskguard(['stop', longTask(sim)], { BLACKBOX_API_KEY: env.BLACKBOX_API_KEY!, TASKGUARD_BASE_URL: sim.url }),
      taskguard(['cancel-all', 'agent:a', 'cloud:b'], { TASKGUARD_BASE_URL: sim.url }),
    ]);
    expect(agent).toMatchObject({ code: 2, stdout: '' });
    expect(agent.stderr).toMatch(/^taskguard: BLACKBOX_API_KEY is not set/);
    expect(cloud.code).toBe(2);
    expect(cloud.stderr).toMatch(/^taskguard: BLACKBOX_CLOUD_API_KEY is not set/);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('BLACKBOX_API_KEY and BLACKBOX_CLOUD_API_KEY are not set');
    expect(sim.ledger.requests).toBe(0);
  });

  it('exits 124 from watch --timeout 300ms on a long run, which is cancelled once', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const ran = await taskguard(['watch', runId, '--timeout', '300ms', '--interval', '100ms'], env);
    expect(ran.code).toBe(124);
    expect(ran.stdout).toContain(`deadline passed: cancelling agent:${runId}`);
    expect(ran.stdout).toMatch(new RegExp(`^agent:${runId} timed out after \\S+ \\(status cancelled; cancelled at its 300ms deadline\\)$`, 'm'));
    expect(sim.ledger.cancels.get(runId)).toBe(1);
    expect(sim.getAgentRun(runId)?.status).toBe('cancelled');
  });

  it('exits 0 from watch on a run that completes, with a plain line per status change', async ({ expect, onTestFinished }) => {
    const { sim, env, advance } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const watching = startCli(['watch', `agent:${runId}`, '--interval', '100ms', '--timeout', '20s'], env);
    await watching.waitFor(/in_progress \(running\)/);
    advance(60_000);
    const ran = await watching.exited;
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(new RegExp(`\\] agent:${runId} in_progress \\(running\\)\\n`));
    expect(ran.stdout).toMatch(new RegExp(`\\] agent:${runId} completed \\(completed\\)\\n`));
    expect(ran.stdout).toMatch(new RegExp(`^agent:${runId} completed after `, 'm'));
    expect(ran.stdout).not.toContain('\x1b[');
    expect(sim.ledger.cancels.get(runId)).toBeUndefined();
  });

  it('exits 1 from watch when the task fails and 130 when someone else cancelled it', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const failing = sim.createCloudTask({ durationMs: 200, outcome: 'error' }).task.id;
    const cancelled = longRun(sim);
    await new AgentClient({ apiKey: env.BLACKBOX_API_KEY!, baseUrl: sim.url }).cancel(cancelled);
    const [failed, gone] = await Promise.all([
      taskguard(['watch', `cloud:${failing}`, '--interval', '100ms', '--json'], env),
      taskguard(['watch', cancelled, '--json'], env),
    ]);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ref: `cloud:${failing}`, outcome: 'failed', status: 'error', exitCode: 1 });
    expect(gone.code).toBe(130);
    expect(JSON.parse(gone.stdout)).toMatchObject({ outcome: 'cancelled', exitCode: 130 });
  });

  it('serves the simulator from simulate --port 0 with the keys of the environment, and stops on SIGTERM with exit 0', async ({ expect }) => {
    const agentKey = `sk-sim-env-${randomBytes(6).toString('hex')}`;
    const cloudKey = `bb_sim_env_${randomBytes(6).toString('hex')}`;
    const env = { BLACKBOX_API_KEY: agentKey, BLACKBOX_CLOUD_API_KEY: cloudKey };
    const server = startCli(['simulate', '--port', '0', '--latency', '5ms', '--seed', '42'], env);
    const [, url] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    await server.waitFor(/Press Ctrl-C to stop/);
    const created = await fetch(`${url}/api/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'from the test [sim:duration=60000]' }),
    });
    expect(created.status).toBe(200);
    const { runId } = (await created.json()) as { runId: string };
    // The other commands work against it unchanged, with the same environment.
    const status = await taskguard(['status', runId, '--base-url', url!], env);
    expect(status).toMatchObject({ code: 0 });
    expect(status.stdout).toContain('in_progress');
    server.child.kill('SIGTERM');
    const ended = await server.exited;
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain('accepts the key in BLACKBOX_API_KEY');
    expect(ended.stdout).toContain('accepts the key in BLACKBOX_CLOUD_API_KEY');
    expect(ended.stdout).toContain('faults     latency 5ms');
    expect(ended.stdout).toMatch(/SIGTERM: simulator stopped after \d+ requests/);
    expect(ended.stdout + ended.stderr).not.toContain(agentKey);
    expect(ended.stdout + ended.stderr).not.toContain(cloudKey);
  });

  it('prints the keys it generated from simulate --json when none are set', async ({ expect }) => {
    const server = startCli(['simulate', '--json', '--error-rate', '0.5', '--max-concurrent', '4'], {});
    await server.waitFor(/^}$/m);
    server.child.kill('SIGINT');
    const ended = await server.exited;
    expect(ended.code).toBe(0);
    const doc = JSON.parse(ended.stdout) as { url: string; agent: { key: string; keyFromEnv: boolean }; cloud: { key: string }; faults: object };
    expect(doc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(doc.agent).toMatchObject({ keyEnv: 'BLACKBOX_API_KEY', keyFromEnv: false, key: expect.stringMatching(/^sk-sim-/) as unknown });
    expect(doc.cloud.key).toMatch(/^bb_sim_/);
    expect(doc.faults).toMatchObject({ errorRate: 0.5, maxConcurrent: 4, hangRate: 0 });
  });

  it('renames a run, and refuses a 201-character title with exit 2 without a request', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const runId = longRun(sim);
    const tooLong = await taskguard(['rename', runId, 'x'.repeat(201)], env);
    expect(tooLong).toMatchObject({ code: 2, stdout: '', stderr: 'taskguard: title must be 1–200 characters, got 201\n' });
    expect(sim.ledger.requests).toBe(0);
    const renamed = await taskguard(['rename', runId, 'Nightly dependency bump'], env);
    expect(renamed).toMatchObject({ code: 0, stdout: `renamed agent:${runId} to "Nightly dependency bump"\n` });
    expect(sim.getAgentRun(runId)?.title).toBe('Nightly dependency bump');
  });

  it('refuses a bad duration, an unknown option, an unknown ref kind and a plain-http remote base URL with exit 2', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const ran = await Promise.all([
      taskguard(['watch', 'abc', '--timeout', '10 minutes'], env),
      taskguard(['watch', 'abc', '--timeout', '0s'], env),
      taskguard(['status', 'abc', '--verbose'], env),
      taskguard(['status', 'job:abc'], env),
      taskguard(['cancel', 'cloud:abc'], env),
      taskguard(['status', 'abc', '--base-url', 'http://example.com'], env),
      taskguard(['simulate', '--error-rate', '2'], env),
    ]);
    for (const result of ran) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^taskguard: .+\n$/);
    }
    expect(ran[0]!.stderr).toContain('Not a duration: use a number with a unit such as 500ms, 90s, 10m or 1h (a bare number means seconds)');
    expect(ran[2]!.stderr).toContain("unknown option '--verbose'");
    expect(ran[3]!.stderr).toContain('unknown kind "job"');
    expect(ran[4]!.stderr).toContain('stop it with `taskguard stop abc`');
    expect(ran[5]!.stderr).toContain('clear text');
    expect(sim.ledger.requests).toBe(0);
  });

  it('exits 1 on an API failure with one line on stderr that names the env var but never the key', async ({ expect, onTestFinished }) => {
    // The server quotes the Authorization header back in its error body, so a key the CLI let through would show.
    const server = await startTestServer((req, res) => sendJson(res, 401, { error: `Unauthorized: ${req.headers.authorization}` }));
    onTestFinished(() => server.close());
    const wrongKey = 'sk-wrong-but-secret-31337';
    const env = { BLACKBOX_API_KEY: wrongKey, TASKGUARD_BASE_URL: server.url };
    const [text, json] = await Promise.all([taskguard(['status', 'run-1'], env), taskguard(['cancel', 'run-2', '--json'], env)]);
    expect(server.requests.map((request) => request.headers.authorization)).toEqual([`Bearer ${wrongKey}`, `Bearer ${wrongKey}`]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^taskguard: 401 GET \/api\/v1\/tasks\/run-1\/status: Unauthorized: Bearer \[redacted\] \(check BLACKBOX_API_KEY\)\n$/);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { name: 'AuthenticationError', status: 401, exitCode: 1 } });
    for (const result of [text, json]) expect(result.stdout + result.stderr).not.toContain(wrongKey);
  });


  it('shows examples in --help, for the program and for each command', async ({ expect }) => {
    const [main, bulk, watch] = await Promise.all([taskguard(['--help']), taskguard(['cancel-all', '--help']), taskguard(['help', 'watch'])]);
    expect(main.code).toBe(0);
    for (const command of ['status', 'cancel', 'rename', 'stop', 'watch', 'cancel-all', 'simulate', 'demo']) expect(main.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(main.stdout).toContain('Examples:');
    expect(main.stdout).toContain('a bare number means seconds');
    expect(bulk.code).toBe(0);
    expect(bulk.stdout).toContain('$ taskguard cancel-all < refs.txt');
    expect(bulk.stdout).toContain('--concurrency <n>');
    expect(watch.stdout).toContain('124 timed out');
  });

  it('runs a short demo and prints its summary as JSON', async ({ expect }) => {
    const ran = await taskguard(['demo', '--tasks', '6', '--seed', '3', '--shutdown-after', '500ms', '--json']);
    expect(ran.code).toBe(0);
    const doc = JSON.parse(ran.stdout) as { tasks: number; results: unknown[]; notStarted: number; byOutcome: Record<string, number> };
    expect(doc.tasks).toBe(6);
    expect(doc.results.length + doc.notStarted).toBe(6);
    expect(Object.values(doc.byOutcome).reduce((a, b) => a + b, 0)).toBe(doc.results.length);
  });
});

/** A stream that records what is written, posing as a terminal or not. */
class Capture extends Writable {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 120,
  ) {
    super();
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.text += String(chunk);
    callback();
  }
}

function inProcess(argv: readonly string[], env: Readonly<Record<string, string>>, tty: boolean) {
  const stdout = new Capture(tty);
  const stderr = new Capture(tty);
  const signals = new EventEmitter();
  const code = runCli({ argv, env, stdin: Readable.from([]), stdout, stderr, signals });
  return { code, stdout, stderr, signals };
}

const SGR_COLOUR = /\x1b\[(3\d|1|2)m/;
const stripAnsi = (text: string) => text.replace(/\x1b\[[\d;?]*[A-Za-z]/g, '');

describe.concurrent('the program on a terminal', () => {
  it('draws a live status line and colours on a terminal, and no colour under NO_COLOR', async ({ expect, onTestFinished }) => {
    const { sim, env, advance } = await simulator({ onTestFinished });
    const coloured = inProcess(['watch', longRun(sim), '--interval', '50ms'], env, true);
    const plain = inProcess(['watch', longRun(sim), '--interval', '50ms'], { ...env, NO_COLOR: '1' }, true);
    await until(() => coloured.stderr.text.includes('in_progress') && plain.stderr.text.includes('in_progress'), 'both status lines show the run');
    advance(60_000);
    expect(await coloured.code).toBe(0);
    expect(await plain.code).toBe(0);
    expect(coloured.stderr.text).toContain('\r\x1b[2K');
    expect(coloured.stderr.text).toMatch(/in_progress.*\(running\)/);
    expect(coloured.stderr.text).toMatch(SGR_COLOUR);
    expect(coloured.stdout.text).toContain('\x1b[32mcompleted\x1b[39m');
    // A terminal gets the live line, not the plain lines.
    expect(coloured.stdout.text).not.toContain('watching');
    expect(plain.stderr.text).toContain('\r\x1b[2K');
    expect(plain.stderr.text + plain.stdout.text).not.toMatch(SGR_COLOUR);
    expect(plain.stdout.text).toMatch(/ completed after /);
  });

  it('draws a cli-progress bar on stderr when it is a terminal', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const refs = Array.from({ length: 5 }, () => longRun(sim));
    const run = inProcess(['cancel-all', ...refs, 'agent:missing'], env, true);
    expect(await run.code).toBe(1);
    expect(run.stderr.text).toMatch(/cancelling .*\d\/6 · failed \d/);
    expect(stripAnsi(run.stdout.text)).toMatch(/^cancelled\s+5$/m);
    expect(stripAnsi(run.stdout.text)).not.toMatch(/^cancelled\s+agent:/m);
  });

  it('cancels the watched run on Ctrl-C and exits 130, or leaves it running with --no-cancel-on-interrupt', async ({ expect, onTestFinished }) => {
    const { sim, env } = await simulator({ onTestFinished });
    const cancelled = longRun(sim);
    const left = longRun(sim);
    const first = inProcess(['watch', cancelled, '--interval', '50ms'], env, false);
    const second = inProcess(['watch', left, '--interval', '50ms', '--no-cancel-on-interrupt'], env, false);
    await until(() => first.stdout.text.includes('in_progress') && second.stdout.text.includes('in_progress'), 'both watchers show the run');
    first.signals.emit('SIGINT', 'SIGINT');
    second.signals.emit('SIGTERM', 'SIGTERM');
    expect(await first.code).toBe(130);
    expect(await second.code).toBe(130);
    expect(first.stdout.text).toContain(`SIGINT: cancelling agent:${cancelled}`);
    expect(first.stdout.text).toMatch(new RegExp(`^agent:${cancelled} cancelled after \\S+ \\(status cancelled\\)$`, 'm'));
    expect(sim.ledger.cancels.get(cancelled)).toBe(1);
    expect(second.stdout.text).toMatch(new RegExp(`^agent:${left} not finished after \\S+ \\(status in_progress; SIGTERM: stopped watching; the task was left running\\)$`, 'm'));
    expect(sim.ledger.cancels.get(left)).toBeUndefined();
    expect(sim.getAgentRun(left)?.status).toBe('running');
    expect(first.signals.listenerCount('SIGINT') + second.signals.listenerCount('SIGTERM')).toBe(0);
  });
});

describe('durations and refs', () => {
  it('accepts 500ms, 90s, 10m, 1h, compounds and bare seconds, and refuses anything else', ({ expect }) => {
    expect([parseDuration('500ms'), parseDuration('90s'), parseDuration('10m'), parseDuration('1h')]).toEqual([500, 90_000, 600_000, 3_600_000]);
    expect([parseDuration('1m30s'), parseDuration('1.5s'), parseDuration('30'), parseDuration('0.25')]).toEqual([90_000, 1_500, 30_000, 250]);
    for (const bad of ['', '10 m', '10M', '-5s', '1d', 'ms', '5s3', 'soon', '1e3']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('reads agent:, cloud: and bare refs, one per line, skipping blank lines and # comments', ({ expect }) => {
    expect(parseRef('cloud:9qQe2F8Z_nXx9-eJA0BD6')).toEqual({ kind: 'cloud', id: '9qQe2F8Z_nXx9-eJA0BD6' });
    expect(parseRef(' 3f1c2a9e ')).toEqual({ kind: 'agent', id: '3f1c2a9e' });
    expect(parseRefLines('# header\r\nagent:a\r\n\r\n  b  # trailing\ncloud:c\n')).toEqual([
      { kind: 'agent', id: 'a' },
      { kind: 'agent', id: 'b' },
      { kind: 'cloud', id: 'c' },
    ]);
    expect(() => parseRefLines('a\nb c\n')).toThrow('stdin line 2: "b c" is not one ref');
    expect(() => parseRef('agent:')).toThrow('must not be empty');
  });
});
