/**
 * `taskguard status <ref>`: one status request, printed.
 * @module
 */
import type { Command } from 'commander';
import { normalizeAgentStatus, normalizeCloudStatus } from '../manager/backends.js';
import type { NormalizedStatus } from '../manager/types.js';
import { agentClient, cloudClient, type ApiCommandOptions } from './clients.js';
import type { CliContext } from './context.js';
import { apiOptions, examples } from './common.js';
import { paintOutcome, showRef } from './format.js';
import { parseRef } from './refs.js';

export function registerStatus(program: Command, context: CliContext): void {
  apiOptions(program.command('status').argument('<ref>', 'agent:<runId>, cloud:<taskId>, or a bare run ID'))
    .description("Print a run's or task's current status")
    .addHelpText('after', examples(['taskguard status agent:3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f', 'taskguard status cloud:9qQe2F8Z_nXx9-eJA0BD6 --json']))
    .action(async (ref: string, options: ApiCommandOptions) => {
      context.exitCode = await status(context, ref, options);
    });
}

export async function status(context: CliContext, text: string, options: ApiCommandOptions): Promise<number> {
  const ref = parseRef(text);
  let answer: object;
  let normalized: NormalizedStatus;
  if (ref.kind === 'agent') {
    answer = await agentClient(context, options).getStatus(ref.id);
    normalized = normalizeAgentStatus(answer);
  } else {
    answer = await cloudClient(context, options).getStatus(ref.id);
    normalized = normalizeCloudStatus(answer);
  }
  if (context.json) {
    context.printJson({ ref: showRef(ref), kind: ref.kind, id: ref.id, state: normalized.state, status: normalized.raw, response: answer });
    return 0;
  }
  const colors = context.colors('out');
  const state = normalized.state === 'pending' || normalized.state === 'running' ? colors.cyan(normalized.state) : paintOutcome(colors, normalized.state);
  const details = [
    normalized.progress !== undefined && normalized.progress !== null ? `progress ${String(normalized.progress)}` : undefined,
    normalized.error ? `error: ${normalized.error}` : undefined,
  ].filter((part) => part !== undefined);
  context.print(`${showRef(ref)}  ${colors.bold(normalized.raw)} (${state})${details.length > 0 ? `  ${details.join(', ')}` : ''}`);
  return 0;
}
