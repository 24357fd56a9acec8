/**
 * What the commands share: the common options, help examples, and option parsers that refuse bad
 * values with a clear message (exit 2).
 * @module
 */
import { InvalidArgumentError, type Command } from 'commander';
import { DURATION_HINT, parseDuration } from './durations.js';
import { BASE_URL_ENV } from './env.js';

/** Adds `--json`. */
export function jsonOption(command: Command): Command {
  return command.option('--json', 'machine-readable output: one JSON document on stdout (errors too)');
}

/** Adds `--json` and `--base-url`. */
export function apiOptions(command: Command): Command {
  return jsonOption(command).option('--base-url <url>', `one base URL serving both APIs, such as the simulator's (env ${BASE_URL_ENV}; default: the real APIs)`);
}

/** The "Examples:" block of a command's help. */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/** An option parser for a duration (`500ms`, `90s`, `10m`, `1h`, bare seconds), at least `minMs`. */
export function durationArg(minMs = 0): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value);
    if (ms === undefined) throw new InvalidArgumentError(`Not a duration: ${DURATION_HINT}.`);
    if (ms < minMs) throw new InvalidArgumentError(minMs === 1 ? 'It must be longer than 0.' : `It must be at least ${minMs}ms.`);
    return ms;
  };
}

/** An option parser for an integer from `min` to `max`. */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`It must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}.`);
    }
    return n;
  };
}

/** An option parser for a probability from 0 to 1. */
export function rateArg(value: string): number {
  const n = /^\d*\.?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('It must be a number from 0 to 1, such as 0.1.');
  return n;
}
