/**
 * Durations on the command line: `500ms`, `90s`, `10m`, `1h`, compounds such as `1m30s`, and a bare
 * number, which means seconds (`30` is `30s`). Anything else is refused with a message saying so.
 * @module
 */

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const BARE = /^\d+(?:\.\d+)?$/;

/** What every refusal ends with, so the user learns the syntax from the error. */
export const DURATION_HINT = 'use a number with a unit such as 500ms, 90s, 10m or 1h (a bare number means seconds)';

/**
 * Milliseconds in `text`, or `undefined` when it is not a duration. Fractions are allowed (`1.5s`) and
 * rounded to whole milliseconds; units are lower case.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  if (BARE.test(value)) return finite(Number(value) * 1_000);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < value.length) {
    const match = PART.exec(value);
    if (!match) return undefined;
    total += Number(match[1]) * (UNITS[match[2] ?? ''] ?? Number.NaN);
  }
  return finite(total);
}

function finite(ms: number): number | undefined {
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

/** A compact human form: `300ms`, `1.2s`, `4m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${sign}${Math.round(abs)}ms`;
  if (abs < 60_000) return `${sign}${(abs / 1_000).toFixed(abs < 10_000 ? 1 : 0)}s`;
  const totalSeconds = Math.round(abs / 1_000);
  if (totalSeconds < 3_600) return `${sign}${Math.floor(totalSeconds / 60)}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${sign}${Math.floor(totalMinutes / 60)}h${String(totalMinutes % 60).padStart(2, '0')}m`;
}
