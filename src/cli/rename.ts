/**
 * `taskguard rename <runId> <title>`: sets an agent run's title (1–200 characters).
 * @module
 */
import type { Command } from 'commander';
import { checkTitle } from '../clients/validate.js';
import { agentClient, type ApiCommandOptions } from './clients.js';
import { apiOptions, examples } from './common.js';
import type { CliContext } from './context.js';
import { agentRunId } from './refs.js';

export function registerRename(program: Command, context: CliContext): void {
  apiOptions(
    program
      .command('rename')
      .argument('<runId>', 'an agent run ID (bare or agent:<runId>)')
      .argument('<title>', 'the new title, 1–200 characters (quote it)'),
  )
    .description("Set an agent run's title")
    .addHelpText('after', examples(['taskguard rename 3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f "Nightly dependency bump"']))
    .action(async (runId: string, title: string, options: ApiCommandOptions) => {
      context.exitCode = await rename(context, runId, title, options);
    });
}

export async function rename(context: CliContext, text: string, title: string, options: ApiCommandOptions): Promise<number> {
  const runId = agentRunId(text);
  checkTitle(title); // a ValidationError (exit 2) before the key is even looked at: no request
  const answer = await agentClient(context, options).rename(runId, title);
  if (context.json) {
    context.printJson({ ref: `agent:${runId}`, kind: 'agent', id: runId, title, response: answer });
  } else {
    context.print(`renamed agent:${runId} to ${JSON.stringify(title)}`);
  }
  return 0;
}
