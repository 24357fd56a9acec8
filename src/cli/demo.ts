/**
 * `taskguard demo`: the library's demo (`runDemo`): an embedded simulator, ~100 runs and tasks with
 * deadlines, a graceful shutdown of the rest, and a summary.
 * @module
 */
import { Option, type Command } from 'commander';
import { refKey } from '../refs.js';
import { runDemo } from '../demo/run-demo.js';
import { durationArg, examples, intArg, jsonOption } from './common.js';
import type { CliContext } from './context.js';

export interface DemoCommandOptions {
  readonly json?: boolean | undefined;
  readonly tasks: number;
  readonly seed: number;
  readonly shutdownAfter: number;
}

export function registerDemo(program: Command, context: CliContext): void {
  jsonOption(program.command('demo'))
    .description('Run the demo: tasks with deadlines against an embedded simulator, then a graceful shutdown')
    .option('--tasks <n>', 'how many runs and tasks to start', intArg(1, 100_000), 100)
    .option('--seed <n>', 'seed of the simulator and of the demo, so a run replays', intArg(0, 0xffff_ffff), 7)
    .addOption(new Option('--shutdown-after <duration>', 'when the tasks still running are shut down').argParser(durationArg(0)).default(6_000, '6s'))
    .addHelpText('after', examples(['taskguard demo', 'taskguard demo --tasks 20 --shutdown-after 3s --json']))
    .action(async (options: DemoCommandOptions) => {
      context.exitCode = await demo(context, options);
    });
}

export async function demo(context: CliContext, options: DemoCommandOptions): Promise<number> {
  // runDemo writes its live view and table to `out`; with --json they go to stderr and stdout holds the JSON.
  const out = context.json ? context.io.stderr : context.io.stdout;
  const summary = await runDemo({ out, tasks: options.tasks, seed: options.seed, shutdownAfterMs: options.shutdownAfter });
  if (context.json) {
    context.printJson({
      tasks: summary.results.length + summary.notStarted,
      notStarted: summary.notStarted,
      byOutcome: summary.byOutcome,
      requests: summary.requests,
      cancelRequests: summary.cancelRequests,
      stopRequests: summary.stopRequests,
      peakConcurrent: summary.peakConcurrent,
      unconfirmed: summary.unconfirmed,
      elapsedMs: summary.elapsedMs,
      results: summary.results.map((result) => ({ ref: refKey(result), outcome: result.outcome, status: result.status })),
    });
  }
  return summary.results.length > 0 ? 0 : 1;
}
