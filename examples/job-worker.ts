/**
 * A job worker: takes jobs from a queue (in memory here; SQS, BullMQ or a database table in real life),
 * runs each as a BLACKBOX agent run or cloud task with the job's own deadline, at most
 * `JOB_CONCURRENCY` jobs at once, and never leaves a run going after its deadline or after the worker
 * stops.
 *
 * - Each job carries an absolute deadline, set when it was enqueued: time spent waiting in the queue
 *   counts. A job whose deadline passed in the queue is dropped without starting anything.
 * - `manager.start(…, { deadline, signal })` creates the task and tracks it in one step; `manager.wait()`
 *   then resolves with the outcome, or rejects with `TaskTimeoutError` once the deadline passed and the
 *   task was cancelled.
 * - SIGTERM/SIGINT stops taking jobs, aborts the jobs in progress (their tasks are cancelled) and
 *   shuts the manager down. The worker then exits 0 (everything was cancelled) or 1.
 *
 * Run it from the repository:   npx tsx examples/job-worker.ts
 * Without TASKGUARD_BASE_URL it starts an embedded simulator; the prompts carry `[sim:…]` hints that
 * script each task's duration and outcome (see docs/simulator.md).
 */
// In your code: import { AgentClient, CloudClient, TaskManager, TaskTimeoutError } from 'taskguard';
import { AgentClient, CloudClient, TaskManager, TaskTimeoutError, type TaskKind, type TaskResult } from '../src/index.js';
// In your code: import { createSimulator } from 'taskguard/simulator';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

const JOB_CONCURRENCY = 3; // jobs in progress at once (the manager's `concurrency` caps API requests)

interface Job {
  readonly name: string;
  readonly kind: TaskKind;
  readonly prompt: string;
  /** Absolute deadline, epoch milliseconds. */
  readonly deadline: number;
}

type JobOutcome = 'completed' | 'failed' | 'timed out' | 'cancelled' | 'expired in queue' | 'error';

// ---------------------------------------------------------------------------------------------------
// The API: a simulator unless TASKGUARD_BASE_URL says otherwise.
let sim: Simulator | undefined;
let agent: AgentClient;
let cloud: CloudClient;
const baseUrl = process.env['TASKGUARD_BASE_URL'];
if (baseUrl) {
  agent = new AgentClient({ baseUrl }); // BLACKBOX_API_KEY
  cloud = new CloudClient({ baseUrl }); // BLACKBOX_CLOUD_API_KEY
} else {
  sim = await createSimulator();
  agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
  cloud = new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url });
}

const manager = new TaskManager({
  agent,
  cloud,
  concurrency: 8,
  poll: { initialMs: 100, maxMs: 400 }, // simulated tasks are short; in production keep the defaults
});
manager.on('timeout', ({ ref }) => console.log(`  [worker] ${ref.kind}:${ref.id} passed its deadline, cancelling`));

// ---------------------------------------------------------------------------------------------------
// The queue: what a producer enqueued, each job with its own deadline.
const enqueuedAt = Date.now();
const queue: Job[] = [
  job('changelog', 'agent', 'Add a CHANGELOG entry [sim:duration=300]', 3_000),
  job('flaky-test', 'cloud', 'Fix the flaky test [sim:duration=400]', 3_000),
  job('lint', 'agent', 'Fix the lint warnings [sim:duration=200]', 3_000),
  job('big-refactor', 'agent', 'Rewrite the module [sim:duration=never]', 1_500), // will not finish in time
  job('release-notes', 'agent', 'Draft the release notes [sim:duration=350,outcome=failed]', 3_000),
  job('docs', 'cloud', 'Update the docs site [sim:duration=300]', 3_000),
  job('migration', 'cloud', 'Write the migration [sim:duration=never]', 2_500), // will not finish in time
  job('typo', 'agent', 'Fix a typo [sim:duration=150]', 600), // its deadline passes while it waits
];

function job(name: string, kind: TaskKind, prompt: string, deadlineInMs: number): Job {
  return { name, kind, prompt, deadline: enqueuedAt + deadlineInMs };
}

// ---------------------------------------------------------------------------------------------------
// The worker.
const stop = new AbortController(); // aborted on SIGTERM/SIGINT
const results: { job: Job; outcome: JobOutcome; ms: number }[] = [];
let inProgress = 0;
let peakInProgress = 0;

async function runJob(job: Job): Promise<JobOutcome> {
  if (Date.now() >= job.deadline) return 'expired in queue';
  // The task is tracked from the moment it exists, with the job's deadline and the worker's lifetime.
  const task = await startTask(job);
  try {
    const result: TaskResult = await manager.wait(task.ref); // resolves at the end, whatever it is...
    if (result.outcome === 'completed') return 'completed';
    if (result.outcome === 'cancelled') return 'cancelled'; // the worker is stopping (or someone else cancelled it)
    if (result.outcome === 'failed' || result.outcome === 'interrupted') return 'failed';
    return 'error'; // lost (404) or error (401/403): result.error says which
  } catch (error) {
    if (error instanceof TaskTimeoutError) return 'timed out'; // ...except a deadline: cancelled, then rejects
    throw error;
  }
}

function startTask(job: Job) {
  const options = { deadline: job.deadline, signal: stop.signal };
  return job.kind === 'cloud' ? manager.start('cloud', { prompt: job.prompt }, options) : manager.start('agent', { prompt: job.prompt }, options);
}

/** One of JOB_CONCURRENCY loops: takes the next job until the queue is empty or the worker stops. */
async function workLoop(): Promise<void> {
  while (!stop.signal.aborted) {
    const next = queue.shift(); // a job taken is a job run: check for the stop first
    if (!next) return;
    const started = Date.now();
    inProgress++;
    peakInProgress = Math.max(peakInProgress, inProgress);
    let outcome: JobOutcome;
    try {
      outcome = await runJob(next);
    } catch (error) {
      console.log(`  [worker] ${next.name}: ${String(error)}`);
      outcome = 'error'; // a real worker would retry the job or dead-letter it
    } finally {
      inProgress--;
    }
    results.push({ job: next, outcome, ms: Date.now() - started });
    console.log(`job ${next.name.padEnd(13)} ${next.kind.padEnd(5)} ${outcome} (${Date.now() - started} ms)`);
  }
}

const onSignal = (signal: NodeJS.Signals): void => {
  console.log(`  [worker] ${signal}: no new jobs; cancelling the jobs in progress`);
  stop.abort(new Error(signal)); // every task started with this signal is cancelled
};
process.once('SIGTERM', onSignal);
process.once('SIGINT', onSignal);

const startedAt = Date.now();
await Promise.all(Array.from({ length: JOB_CONCURRENCY }, () => workLoop()));

// Nothing should be left; shutdown() cancels whatever is (and would report unconfirmed cancels).
const report = await manager.shutdown({ graceMs: 5_000 });
process.off('SIGTERM', onSignal);
process.off('SIGINT', onSignal);

// ---------------------------------------------------------------------------------------------------
const count = (outcome: JobOutcome): number => results.filter((r) => r.outcome === outcome).length;
console.log(
  `jobs: ${results.length} done in ${Date.now() - startedAt} ms, at most ${peakInProgress} at once: ` +
    `completed ${count('completed')}, failed ${count('failed')}, timed out ${count('timed out')}, ` +
    `expired in queue ${count('expired in queue')}, cancelled ${count('cancelled')}, error ${count('error')}`,
);
console.log(`left running at shutdown: ${report.settled.length + report.unconfirmed.length}`);
if (sim) {
  const agentRuns = (await agent.listTasks({ limit: 100 })).tasks;
  const cloudTasks = (await cloud.listTasks({ limit: 100 })).tasks;
  const running = [...agentRuns, ...cloudTasks].filter((t) => !['completed', 'failed', 'cancelled', 'interrupted', 'error', 'stopped', 'timeout'].includes(t.status));
  console.log(`server side: ${agentRuns.length + cloudTasks.length} tasks, ${running.length} still running`);
  await sim.close();
}
process.exitCode = report.unconfirmed.length === 0 && count('error') === 0 ? 0 : 1;
