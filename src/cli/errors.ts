/**
 * Exit codes, usage errors, and how any error becomes one line on stderr (or a JSON document) that
 * never contains an API key.
 * @module
 */
import { CommanderError } from 'commander';
import { ApiError, AuthenticationError, BlackboxError, ConnectionError, PermissionDeniedError, ValidationError } from '../errors/classes.js';
import { AGENT_KEY_ENV, CLOUD_KEY_ENV } from './env.js';

/** Every exit code of the CLI. */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** An API or network failure; a watched task failed, was interrupted, lost or ended in error; a bulk cancel had failures. */
  failure: 1,
  /** A usage error: bad arguments or options, a key on the command line, a missing key, a `ValidationError`. */
  usage: 2,
  /** `watch`, `run`: the task passed its `--timeout` and was cancelled. */
  timedOut: 124,
  /** `watch`, `run`: the task was cancelled (by someone else, or by Ctrl-C); `logs --follow`: Ctrl-C. */
  cancelled: 130,
} as const;

/** Bad arguments, options or environment: exit 2, before any request. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The user answered no (or nothing) to a confirmation: nothing was done, exit 1. */
export class DeclinedError extends Error {
  override name = 'DeclinedError';
}

/** The exit code an error ends the CLI with. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UsageError || error instanceof ValidationError) return EXIT.usage;
  return EXIT.failure;
}

const KEY_OPTION = /^--?(?:[a-z0-9]+[-_])*(?:api[-_]?key|apikey|keys?|token|secret|password|passwd|bearer|auth|authorization|credentials?)$/i;

/**
 * The first option in `argv` that looks like it carries a key (`--api-key`, `--key=…`, `--token`,
 * `--cloud-api-key`, …), or `undefined`. Only its name is returned, never its value.
 */
export function findKeyOption(argv: readonly string[]): string | undefined {
  for (const arg of argv) {
    if (arg === '--') return undefined;
    if (!arg.startsWith('-')) continue;
    const name = arg.split('=', 1)[0] ?? arg;
    if (KEY_OPTION.test(name)) return name;
  }
  return undefined;
}

/** The refusal of a key option. */
export function keyOptionError(name: string): UsageError {
  return new UsageError(
    `${name} is not accepted: API keys are read only from the environment (${AGENT_KEY_ENV} for agent runs, ` +
      `${CLOUD_KEY_ENV} for cloud tasks), never from the command line, where shell history and process listings keep them`,
  );
}

/** Replaces every key found in `env` by `[redacted]`: a last line of defence, the typed errors never hold one. */
export function redact(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let result = text;
  for (const name of [AGENT_KEY_ENV, CLOUD_KEY_ENV]) {
    const key = env[name];
    if (key !== undefined && key.length >= 4) result = result.replaceAll(key, '[redacted]');
  }
  return result;
}

/** One line describing `error`, with a hint where one helps; never a key. */
export function errorLine(error: unknown, env: Readonly<Record<string, string | undefined>>): string {
  let message = messageOf(error);
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) {
    const envVar = error.path.startsWith('/api/v1/') ? AGENT_KEY_ENV : CLOUD_KEY_ENV;
    message += ` (check ${envVar})`;
  } else if (error instanceof ConnectionError) {
    const cause = causeCode(error);
    if (cause !== undefined) message += ` (${cause})`;
  }
  return redact(message, env).replace(/\s*\n\s*/g, ' ').trim();
}

/** The JSON form of an error: `{ error: { name, message, exitCode, status? } }`. */
export function errorDocument(error: unknown, env: Readonly<Record<string, string | undefined>>, message = errorLine(error, env)): object {
  const name = error instanceof CommanderError ? 'UsageError' : error instanceof Error ? error.name : 'Error';
  const status = error instanceof ApiError ? { status: error.status } : {};
  return { error: { name, message, exitCode: exitCodeOf(error), ...status } };
}

function messageOf(error: unknown): string {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.help') return 'no command given (the commands are listed above)';
    return error.message.replace(/^error:\s*/i, '');
  }
  if (error instanceof BlackboxError || error instanceof UsageError || error instanceof DeclinedError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** What lies under a `ConnectionError`: the network error code (`ECONNREFUSED`, `ENOTFOUND`, …) or the deepest message. */
function causeCode(error: Error): string | undefined {
  let cause: unknown = error.cause;
  let message: string | undefined;
  for (let depth = 0; depth < 5 && cause instanceof Error; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    message = cause.message;
    cause = cause.cause;
  }
  return message;
}
