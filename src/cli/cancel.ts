/**
 * `taskguard cancel <runId>` and `taskguard stop <taskId>`: one cancel (agent) or stop (cloud) through
 * a `TaskManager`, so a task that had already finished is reported as such rather than as a failure.
 * @module
 */
import type { Command } from 'commander';
import { TaskManager } from '../manager/task-manager.js';
import type { TaskRef } from '../refs.js';
import { clientsFor, type ApiCommandOptions } from './clients.js';
import { apiOptions, examples } from './common.js';
import type { CliContext } from './context.js';
import { showRef } from './format.js';
import { agentRunId, cloudTaskId } from './refs.js';

export function registerCancel(program: Command, context: CliContext): void {
  apiOptions(program.command('cancel').argument('<runId>', 'an agent run ID (bare or agent:<runId>)'))
    .description('Cancel an agent run (its agent process is terminated; the run becomes cancelled)')
    .addHelpText('after', examples(['taskguard cancel 3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f', 'taskguard cancel agent:3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f --json']))
    .action(async (runId: string, options: ApiCommandOptions) => {
      context.exitCode = await cancelOne(context, { kind: 'agent', id: agentRunId(runId) }, options);
    });
  apiOptions(program.command('stop').argument('<taskId>', 'a cloud task ID (bare or cloud:<taskId>)'))
    .description('Stop a cloud task (irreversible; it must be processing or saving)')
    .addHelpText('after', examples(['taskguard stop 9qQe2F8Z_nXx9-eJA0BD6', 'taskguard stop cloud:9qQe2F8Z_nXx9-eJA0BD6 --json']))
    .action(async (taskId: string, options: ApiCommandOptions) => {
      context.exitCode = await cancelOne(context, { kind: 'cloud', id: cloudTaskId(taskId) }, options);
    });
}

export async function cancelOne(context: CliContext, ref: TaskRef, options: ApiCommandOptions): Promise<number> {
  const manager = new TaskManager(clientsFor(context, [ref], options));
  try {
    const { result, status } = await manager.cancel(ref);
    if (context.json) {
      context.printJson({ ref: showRef(ref), kind: ref.kind, id: ref.id, result, state: status.state, status: status.raw });
      return 0;
    }
    const colors = context.colors('out');
    const verb = ref.kind === 'cloud' ? 'stopped' : 'cancelled';
    context.print(
      result === 'cancelled'
        ? `${colors.yellow(verb)} ${showRef(ref)} (status ${status.raw})`
        : `${showRef(ref)} had already finished (status ${status.raw}): nothing to ${ref.kind === 'cloud' ? 'stop' : 'cancel'}`,
    );
    return 0;
  } finally {
    manager.close();
  }
}
