/**
 * An agent pipeline: a chain of BLACKBOX agent runs, each step continuing the conversation of the one
 * before it with `continueTask`, under ONE overall deadline, cancelled as a whole when a step fails.
 *
 *            ┌─► implement ─► review
 *   plan ────┤
 *            └─► tests
 *
 * - One AbortSignal per pipeline, aborted by whichever comes first: a step that fails, or a timer at the
 *   pipeline's overall deadline. Every run of the pipeline is tracked with it, so when it aborts every
 *   run still going is cancelled, and each `done` resolves once its cancel is confirmed.
 *   (Not `AbortSignal.any([…, AbortSignal.timeout(ms)])`: on Node 20 the timeout signal inside can be
 *   garbage-collected and then never fires — nodejs/node#57736. A plain timer cannot be.)
 * - The create/continue request itself is NOT given the signal: aborting it half-way could leave a run
 *   created on the server whose ID we never learn. It is tracked with the (maybe already aborted)
 *   signal as soon as its ID is known instead, which cancels it at once if the pipeline is over.
 *
 * Run it from the repository:   npx tsx examples/agent-pipeline.ts
 * It plays three pipelines against an embedded simulator (unless TASKGUARD_BASE_URL is set): one that
 * completes, one whose `tests` step fails (so `implement` is cancelled), and one that runs out of time
 * (so `review` is cancelled). The prompts' `[sim:…]` hints script each run (see docs/simulator.md).
 */
// In your code: import { AgentClient, TaskManager, type TaskResult } from 'taskguard';
import { AgentClient, TaskManager, type TaskResult } from '../src/index.js';
// In your code: import { createSimulator } from 'taskguard/simulator';
import { createSimulator, type Simulator } from '../src/simulator/index.js';

// ---------------------------------------------------------------------------------------------------
// The API: a simulator unless TASKGUARD_BASE_URL says otherwise.
let sim: Simulator | undefined;
let agent: AgentClient;
const baseUrl = process.env['TASKGUARD_BASE_URL'];
if (baseUrl) {
  agent = new AgentClient({ baseUrl }); // BLACKBOX_API_KEY
} else {
  sim = await createSimulator();
  agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
}

const manager = new TaskManager({
  agent,
  poll: { initialMs: 100, maxMs: 300 }, // simulated runs are short; in production keep the defaults
  shutdown: { graceMs: 5_000 }, // Ctrl-C mid-pipeline: every run is cancelled, then exit 130
});

// ---------------------------------------------------------------------------------------------------
/** Why a pipeline stopped early: its overall deadline passed. */
class DeadlineExceeded extends Error {
  override name = 'DeadlineExceeded';
  constructor(readonly budgetMs: number) {
    super(`the pipeline's budget of ${budgetMs} ms ran out`);
  }
}

/** Why a pipeline stopped early: the step that failed, with how its run ended. */
class StepFailed extends Error {
  override name = 'StepFailed';
  constructor(
    readonly step: string,
    readonly result: TaskResult,
  ) {
    super(`step "${step}" ended ${result.outcome} (${result.status ?? 'no status'})`);
  }
}

interface PipelineReport {
  readonly name: string;
  readonly outcome: 'completed' | 'failed' | 'deadline';
  readonly detail: string;
  readonly completed: readonly string[];
  readonly cancelled: readonly string[];
  readonly ms: number;
}

/** Prompts per step; `[sim:…]` scripts how long each simulated run takes and how it ends. */
type Prompts = Readonly<Record<'plan' | 'implement' | 'tests' | 'review', string>>;

async function runPipeline(name: string, prompts: Prompts, budgetMs: number): Promise<PipelineReport> {
  const started = Date.now();
  const pipeline = new AbortController(); // aborted on the first failure or at the deadline
  const { signal } = pipeline;
  const deadline = setTimeout(() => pipeline.abort(new DeadlineExceeded(budgetMs)), budgetMs);
  const completed: string[] = [];
  const cancelled: string[] = [];
  const steps: Promise<unknown>[] = []; // every step that started, so none is left behind

  /** Runs one step: creates its run (never aborted half-way), tracks it under the pipeline's signal. */
  const step = (label: string, create: () => Promise<string>): Promise<string> => {
    const running = (async () => {
      signal.throwIfAborted(); // the pipeline is over: do not start anything new
      const runId = await create();
      const result = await manager.track({ kind: 'agent', id: runId }, { signal }).done; // never rejects
      if (result.outcome === 'completed') {
        completed.push(label);
        return runId;
      }
      if (result.outcome === 'cancelled' && signal.aborted) {
        cancelled.push(label); // cancelled because of another step or the deadline
        throw signal.reason;
      }
      throw new StepFailed(label, result);
    })();
    // The first step to fail (its run, or its create request) aborts the pipeline, which cancels every
    // other run of it; aborting again later is a no-op.
    steps.push(running.catch((error: unknown) => pipeline.abort(error)));
    return running;
  };

  try {
    const plan = await step('plan', async () => (await agent.createTask({ prompt: prompts.plan })).runId);
    const implementing = step('implement', async () => (await agent.continueTask(plan, { prompt: prompts.implement })).runId);
    const testing = step('tests', async () => (await agent.continueTask(plan, { prompt: prompts.tests })).runId);
    const implemented = await implementing;
    await Promise.all([step('review', async () => (await agent.continueTask(implemented, { prompt: prompts.review })).runId), testing]);
    return { name, outcome: 'completed', detail: `${completed.length} steps`, completed, cancelled, ms: Date.now() - started };
  } catch {
    await Promise.all(steps); // every step has ended (its cancel confirmed) before we report
    const reason: unknown = signal.reason;
    const outcome = reason instanceof DeadlineExceeded ? 'deadline' : 'failed';
    const detail = reason instanceof Error ? reason.message : String(reason);
    return { name, outcome, detail, completed, cancelled, ms: Date.now() - started };
  } finally {
    clearTimeout(deadline);
  }
}

// ---------------------------------------------------------------------------------------------------
const pipelines: [string, Prompts, number][] = [
  [
    'release-notes',
    {
      plan: 'Plan the release notes [sim:duration=200]',
      implement: 'Write them [sim:duration=300]',
      tests: 'Check every link [sim:duration=250]',
      review: 'Review the wording [sim:duration=200]',
    },
    5_000,
  ],
  [
    'flaky-tests',
    {
      plan: 'Find the flaky tests [sim:duration=200]',
      implement: 'Fix them [sim:duration=never]', // still running when `tests` fails: cancelled
      tests: 'Run the suite 50 times [sim:duration=300,outcome=failed]',
      review: 'Review the fix [sim:duration=200]', // never starts
    },
    5_000,
  ],
  [
    'big-refactor',
    {
      plan: 'Plan the refactor [sim:duration=200]',
      implement: 'Refactor [sim:duration=300]',
      tests: 'Update the tests [sim:duration=250]',
      review: 'Review everything [sim:duration=never]', // still running at the deadline: cancelled
    },
    2_000,
  ],
];

const reports = await Promise.all(pipelines.map(([name, prompts, budgetMs]) => runPipeline(name, prompts, budgetMs)));
for (const r of reports) {
  const cancelled = r.cancelled.length > 0 ? `; cancelled: ${r.cancelled.join(', ')}` : '';
  console.log(`pipeline ${r.name}: ${r.outcome} — ${r.detail}; completed: ${r.completed.join(', ') || 'none'}${cancelled} (${r.ms} ms)`);
}

await manager.shutdown({ graceMs: 5_000 }); // nothing is left to cancel; this also removes the signal handlers
if (sim) {
  const { tasks } = await agent.listTasks({ limit: 100 });
  const running = tasks.filter((t) => !['completed', 'failed', 'cancelled', 'interrupted'].includes(t.status));
  const cancels = [...sim.ledger.cancels.values()].reduce((a, b) => a + b, 0);
  console.log(`server side: ${tasks.length} runs, ${running.length} still running, ${cancels} cancel requests`);
  await sim.close();
}
// The demo scripted one pipeline of each kind; anything else means something is wrong.
const expected = ['completed', 'failed', 'deadline'];
process.exitCode = reports.every((r, i) => r.outcome === expected[i]) ? 0 : 1;
