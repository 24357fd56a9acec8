/**
 * Prompt hints: a prompt that contains `[sim:duration=5000,outcome=failed]` steers the run or task it
 * starts, so code that only talks HTTP (a CLI, another process) can still script an outcome.
 * @module
 */
import { HttpError } from './http.js';

/** What a hint may set; absent fields fall back to the simulator's defaults. */
export interface PromptHint<Outcome extends string> {
  readonly durationMs?: number;
  readonly outcome?: Outcome;
}

const HINT = /\[sim:([^\]]*)\]/;

/**
 * The hint in `prompt`, checked against `outcomes`. A malformed hint is a 400 rather than ignored, so a
 * typo in a test does not silently run the default scenario.
 */
export function parseHint<Outcome extends string>(prompt: string, outcomes: readonly Outcome[]): PromptHint<Outcome> {
  const match = HINT.exec(prompt);
  if (!match) return {};
  let durationMs: number | undefined;
  let outcome: Outcome | undefined;
  for (const pair of (match[1] ?? '').split(',')) {
    const [key = '', value = ''] = pair.split('=').map((part) => part.trim());
    if (key === 'duration') {
      durationMs = value === 'never' || value === 'Infinity' ? Number.POSITIVE_INFINITY : /^\d+$/.test(value) ? Number(value) : Number.NaN;
      if (Number.isNaN(durationMs)) throw new HttpError(400, `Invalid simulator hint: duration must be milliseconds or "never", got "${value}"`);
    } else if (key === 'outcome') {
      if (!outcomes.includes(value as Outcome)) throw new HttpError(400, `Invalid simulator hint: outcome must be one of ${outcomes.join(', ')}, got "${value}"`);
      outcome = value as Outcome;
    } else {
      throw new HttpError(400, `Invalid simulator hint: unknown key "${key}" (use duration, outcome)`);
    }
  }
  return { ...(durationMs !== undefined && { durationMs }), ...(outcome !== undefined && { outcome }) };
}
