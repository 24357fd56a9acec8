/**
 * Human output: plain ANSI colours (only when allowed), aligned tables, refs.
 * @module
 */
import type { TaskOutcome } from '../manager/types.js';
import { refKey, type TaskRef } from '../refs.js';

/** Colour functions; each is the identity when colour is off. */
export interface Palette {
  readonly enabled: boolean;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const identity = (text: string): string => text;

/** A palette with plain ANSI SGR codes, or one that leaves text alone. */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { enabled, red: identity, green: identity, yellow: identity, cyan: identity, dim: identity, bold: identity };
  return { enabled, red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/** The colour of an outcome: green when it went as hoped, yellow when it was stopped, red when it failed. */
export function paintOutcome(colors: Palette, outcome: TaskOutcome | 'alreadyDone' | 'failedCancel', text: string = outcome): string {
  switch (outcome) {
    case 'completed':
      return colors.green(text);
    case 'cancelled':
    case 'timed_out':
    case 'alreadyDone':
      return colors.yellow(text);
    default:
      return colors.red(text);
  }
}

/** `agent:<id>`. */
export function showRef(ref: TaskRef): string {
  return refKey(ref);
}

/** Column alignment of {@link table}. */
export type Align = 'left' | 'right';

/**
 * Rows aligned in columns two spaces apart; the first row is the header, underlined with dashes.
 * `paint` colours a cell after padding, so colour codes never upset the alignment.
 */
export function table(rows: readonly (readonly string[])[], align: readonly Align[] = [], paint?: (row: number, column: number, cell: string) => string): string[] {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(0, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[], index: number) =>
    widths
      .map((width, c) => {
        const cell = row[c] ?? '';
        const last = c === columns - 1;
        const padded = align[c] === 'right' ? cell.padStart(width) : last ? cell : cell.padEnd(width);
        return paint ? paint(index, c, padded) : padded;
      })
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  if (!header) return [];
  return [line(header, 0), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map((row, i) => line(row, i + 1))];
}
