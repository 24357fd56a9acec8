/**
 * An agent pipeline: a chain of BLACKBOX agent runs, each step continuing the conversation of the one
 * before it with `continueTask`, in ONE task group: one deadline over every run, and fail-fast.
 *
 *            ┌─► implement ─► review
 *   plan ────┤
 *            └─► tests
 *
 * - `manager.group({ timeoutMs, failFast: true })`: every run tracked through the group gets the
 *   group's deadline, so at the deadline the manager cancels whatever still runs (it ends `timed_out`);
 *   the first run that ends `failed` makes the group cancel the others (they end `cancelled`).
 *   `group.wait()` resolves once every run of the pipeline has ended, with the group's outcome.
 * - A step makes its own create/continue request (a continuation is not a `start()`) and does not abort
 *   it half-way: a run created on the server whose ID we never learn would run unwatched. It checks
 *   `group.closed` first, so that nothing new starts once the pipeline is over, and tracks its run
 *   through the group as soon as the ID is known (a closed group cancels it at once).
 *
 * Run it from the repository:   npx tsx examples/agent-pipeline.ts
 * It plays three pipelines against an embedded simulator (unless TASKGUARD_BASE_URL is set): one that
 * completes, one whose `tests` step fails (so `implement` is cancelled), and one that runs out of time
 * (so `review` is cancelled). The prompts' `[sim:…]` hints script each run (see docs/simulator.md).
 */
// In your code: import { AgentClient, TaskManager, type GroupResult } from 'taskguard';
import { AgentClient, TaskManager, type GroupResult } from '../src/index.js';
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
interface PipelineReport {
  readonly name: string;
  readonly outcome: 'completed' | 'failed' | 'deadline' | 'cancelled' | 'over budget';
  readonly detail: string;
  readonly completed: readonly string[];
  readonly cancelled: readonly string[];
  readonly taskMinutes: number;
  readonly ms: number;
}

/** Prompts per step; `[sim:…]` scripts how long each simulated run takes and how it ends. */
type Prompts = Readonly<Record<'plan' | 'implement' | 'tests' | 'review', string>>;

async function runPipeline(name: string, prompts: Prompts, budgetMs: number): Promise<PipelineReport> {
  const started = Date.now();
  const group = manager.group({ name, timeoutMs: budgetMs, failFast: true });
  const completed: string[] = [];
  const cancelled: string[] = [];
  const steps: Promise<unknown>[] = []; // every step that started, so none is left behind
  const labels = new Map<string, string>(); // run ID → step

  /** Runs one step: creates its run (never aborted half-way) and tracks it through the group. */
  const step = (label: string, create: () => Promise<string>): Promise<string> => {
    const running = (async () => {
      if (group.closed) throw new Error(`the pipeline is over (${group.closed}): ${label} not started`);
      const runId = await create();
      labels.set(runId, label);
      const result = await group.track({ kind: 'agent', id: runId }).done; // never rejects
      if (result.outcome === 'completed') {
        completed.push(label);
        return runId;
      }
      // Stopped by the group (another step failed, or the deadline), not by its own failure.
      if (group.closed && (result.outcome === 'cancelled' || result.outcome === 'timed_out')) cancelled.push(label);
      throw new Error(`step "${label}" ended ${result.outcome}`);
    })();
    steps.push(running.catch(() => {})); // the group's result says why a pipeline stopped
    return running;
  };

  try {
    const plan = await step('plan', async () => (await agent.createTask({ prompt: prompts.plan })).runId);
    const implementing = step('implement', async () => (await agent.continueTask(plan, { prompt: prompts.implement })).runId);
    const testing = step('tests', async () => (await agent.continueTask(plan, { prompt: prompts.tests })).runId);
    const implemented = await implementing;
    await Promise.all([step('review', async () => (await agent.continueTask(implemented, { prompt: prompts.review })).runId), testing]);
  } catch {
    // A step stopped: the group has cancelled the others (or the deadline did); its result tells why.
  }
  await Promise.all(steps); // every create has answered and its run is in the group
  const result = await group.wait(); // every run has ended (its cancel confirmed); never rejects
  const ms = Date.now() - started;
  return { name, ...describe(result, budgetMs, labels), completed, cancelled, taskMinutes: result.taskMinutes, ms };
}

/** The pipeline's outcome in words, from the group's result. */
function describe(result: GroupResult, budgetMs: number, labels: ReadonlyMap<string, string>): Pick<PipelineReport, 'outcome' | 'detail'> {
  switch (result.outcome) {
    case 'completed':
      return { outcome: 'completed', detail: `${result.counts.completed} steps` };
    case 'timed_out':
      return { outcome: 'deadline', detail: `the pipeline's budget of ${budgetMs} ms ran out` };
    case 'failed': {
      const failed = result.results.find((r) => r.outcome !== 'completed' && r.outcome !== 'cancelled');
      const detail = failed ? `step "${labels.get(failed.id) ?? failed.id}" ended ${failed.outcome} (${failed.status ?? 'no status'})` : 'a step did not complete';
      return { outcome: 'failed', detail };
    }
    case 'cancelled':
      return { outcome: 'cancelled', detail: 'the pipeline was cancelled' };
    case 'over_budget':
      return { outcome: 'over budget', detail: `${result.taskMinutes.toFixed(2)} task-minutes` };
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
console.log(`task-minutes: ${reports.map((r) => `${r.name} ${r.taskMinutes.toFixed(3)}`).join(', ')}`);

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
