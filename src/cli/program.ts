/**
 * The `taskguard` program, built from injectable `{ argv, env, stdin, stdout, stderr }` so tests can
 * run it in-process; `index.ts` runs it with the real process.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCancelAll } from './cancel-all.js';
import { registerCancel } from './cancel.js';
import { examples } from './common.js';
import { CliContext, type CliIO } from './context.js';
import { registerDemo } from './demo.js';
import { registerFleet } from './fleet.js';
import { registerList } from './list.js';
import { registerLogs } from './logs.js';
import { AGENT_KEY_ENV, BASE_URL_ENV, CLOUD_KEY_ENV, colorAllowed, REDIS_URL_ENV } from './env.js';
import { findKeyOption, keyOptionError } from './errors.js';
import { registerRename } from './rename.js';
import { registerRun } from './run.js';
import { registerSimulate } from './simulate.js';
import { registerStatus } from './status.js';
import { registerWatch } from './watch.js';

export type { CliIO, OutputStream, SignalSource } from './context.js';

const FOOTER = `${examples([
  'taskguard status agent:3f1c2a9e-8b7d-4c55-9e0f-2a1b3c4d5e6f',
  'taskguard list --status active',
  'taskguard run "Add a CHANGELOG entry" --timeout 10m --logs',
  'taskguard watch cloud:9qQe2F8Z_nXx9-eJA0BD6 --timeout 10m',
  'taskguard cancel-all < refs.txt',
  'taskguard cancel-all --active --yes',
  'taskguard simulate --latency 20ms --error-rate 0.1',
])}
Environment:
  ${AGENT_KEY_ENV}        Agent API key (agent runs)
  ${CLOUD_KEY_ENV}  Cloud API key (cloud tasks)
  ${BASE_URL_ENV}      base URL serving both APIs (same as --base-url)
  ${REDIS_URL_ENV}     redis:// URL of a fleet's registry, for fleet (same as --redis)
  NO_COLOR                colour off (it is also off when output is not a terminal)
Keys are read only from the environment; an --api-key/--key/--token option is refused.

Refs: agent:<runId>, cloud:<taskId>, or a bare ID (an agent run).
Durations: 500ms, 90s, 10m, 1h, 1m30s; a bare number means seconds.
Exit codes: 0 ok · 1 API/network failure, or a failed bulk cancel or watched task · 2 usage error ·
  124 watch/run timed out · 130 watch/run cancelled.
`;

/** The package version, read from package.json next to src/ or dist/. */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The commander program of one invocation; its actions set `context.exitCode`. */
export function buildProgram(context: CliContext): Command {
  const { stdout, stderr } = context.io;
  const program = new Command('taskguard')
    .description('Watch, deadline and stop BLACKBOX agent runs and cloud tasks.')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void stdout.write(text),
      writeErr: (text) => void stderr.write(text),
      // Errors are printed by the caller, as one line (or JSON), like every other error.
      outputError: () => {},
      getOutHelpWidth: () => stdout.columns ?? 100,
      getErrHelpWidth: () => stderr.columns ?? 100,
      getOutHasColors: () => colorAllowed(stdout, context.env),
      getErrHasColors: () => colorAllowed(stderr, context.env),
    })
    .showSuggestionAfterError(true)
    .addHelpText('after', FOOTER);
  registerStatus(program, context);
  registerList(program, context);
  registerLogs(program, context);
  registerCancel(program, context);
  registerRename(program, context);
  registerWatch(program, context);
  registerRun(program, context);
  registerCancelAll(program, context);
  registerFleet(program, context);
  registerSimulate(program, context);
  registerDemo(program, context);
  return program;
}

/** Runs the CLI; resolves with the exit code. Never rejects: every error is reported and mapped to a code. */
export async function runCli(io: CliIO): Promise<number> {
  const context = new CliContext(io);
  try {
    const keyOption = findKeyOption(io.argv);
    if (keyOption !== undefined) throw keyOptionError(keyOption);
    await buildProgram(context).parseAsync([...io.argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return context.fail(error);
  }
}
