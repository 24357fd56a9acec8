/**
 * What every benchmark hands back: rows of the final table, each judged against its target.
 * @module
 */

/** PASS or MISS against a target; `info` for a figure that has no target (a floor, a throughput). */
export type Verdict = 'PASS' | 'MISS' | 'info';

/** One line of the final table. Figures are already formatted, with their unit. */
export interface Row {
  readonly benchmark: string;
  /** What is measured, e.g. `wall, N=2000 c=64`. */
  readonly metric: string;
  readonly ours: string;
  readonly baseline: string;
  /** ours / baseline (or whatever the target is stated against), formatted; `—` when none applies. */
  readonly ratio: string;
  readonly target: string;
  readonly verdict: Verdict;
}

/** How the runner calls a benchmark. */
export interface BenchOptions {
  /** The issue's sizes instead of the quick ones. */
  readonly full: boolean;
  /** Extra layer-by-layer measurements (the client benchmark). */
  readonly breakdown: boolean;
  /** Profile with `--cpu-prof` and summarize where the time goes (the client benchmark). */
  readonly profile: boolean;
  /** Progress lines on stderr. */
  log(line: string): void;
}

/** A benchmark the runner knows by name. */
export interface Benchmark {
  readonly name: string;
  readonly title: string;
  run(options: BenchOptions): Promise<Row[]>;
}

/** `1,234` */
export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** `12.3 ms` (or `1.23 s` from 10 s up). */
export function ms(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(value >= 100 ? 0 : 1)} ms`;
}

/** `0.83×` */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '—';
}

/** A number with `digits` decimals and a unit. */
export function fixed(value: number, digits: number, unit: string): string {
  return `${value.toFixed(digits)}${unit === '' ? '' : ` ${unit}`}`;
}

/** PASS when `ok`, MISS otherwise. */
export function verdict(ok: boolean): Verdict {
  return ok ? 'PASS' : 'MISS';
}

const COLUMNS = ['benchmark', 'metric', 'ours', 'baseline', 'ratio', 'target', 'verdict'] as const;
const HEADERS: Record<(typeof COLUMNS)[number], string> = {
  benchmark: 'benchmark',
  metric: 'metric',
  ours: 'ours',
  baseline: 'baseline',
  ratio: 'ratio',
  target: 'target',
  verdict: 'PASS/MISS',
};

/** The table as aligned plain text. */
export function textTable(rows: readonly Row[]): string {
  const widths = COLUMNS.map((column) => Math.max(HEADERS[column].length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(COLUMNS.map((c) => HEADERS[c])), line(widths.map((w) => '-'.repeat(w))), ...rows.map((row) => line(COLUMNS.map((c) => row[c])))].join('\n');
}

/** The table as GitHub markdown. */
export function markdownTable(rows: readonly Row[]): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|');
  const line = (cells: readonly string[]): string => `| ${cells.map(escape).join(' | ')} |`;
  return [line(COLUMNS.map((c) => HEADERS[c])), line(COLUMNS.map(() => '---')), ...rows.map((row) => line(COLUMNS.map((c) => row[c])))].join('\n');
}
