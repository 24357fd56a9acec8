/**
 * The CLI as a user runs it: the real binary in a child process (`node --import tsx src/cli/index.ts …`),
 * with the keys and base URL the test passes and none inherited from the shell that runs the tests.
 */
import { startNode } from '../../tools/child.js';

/** What a test's environment may hold and a user's shell would not: keys, a base URL, colour settings. */
const SHELL_SETTINGS = /^(BLACKBOX_|TASKGUARD_|NO_COLOR$|FORCE_COLOR$)/;

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts the binary; stdin gets `input` and is closed, so it is never a terminal. */
export function startCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, input = '') {
  const cli = startNode('src/cli/index.ts', { args, env, dropEnv: SHELL_SETTINGS, input });
  const exited = cli.exited.then(({ code }): Ran => ({ code, stdout: cli.stdout, stderr: cli.stderr }));
  return { child: cli.child, exited, waitFor: (pattern: RegExp) => cli.waitForLine(pattern, 30_000) };
}

/** Runs the binary to its end. */
export function taskguard(args: readonly string[], env: Readonly<Record<string, string>> = {}, input = ''): Promise<Ran> {
  return startCli(args, env, input).exited;
}
