/**
 * Runs the benchmarks and prints the final table: `tsx bench/run.ts [--full] [name …] [flags]`.
 *
 * Quick mode (the default) finishes in under two minutes on a 2-core machine; `--full` uses the sizes of
 * the issue. Names pick benchmarks (default: all): bulk-cancel, tracking, polling, shutdown, client, stores,
 * telemetry, adaptive, sweeps.
 *
 * Flags:
 * - `--breakdown`: extra figures that explain a result (client: layer by layer; tracking: what a
 *   tracked task is made of, from heap snapshots);
 * - `--profile`: client: profile the bare and our loops in this process, after the rounds, and bill the
 *   time to layers (fetch, ky, p-retry, our core, GC; bench/lib/cpu-layers.ts);
 * - `--markdown`: print the table as markdown too;
 * - `--write-doc=<section>`: write the table, the machine and this run's log into docs/performance.md,
 *   between its `<!-- bench:<section>:begin -->` and `<!-- bench:<section>:end -->` markers.
 *
 * - `--strict`: exit 1 when a target is missed (by default a miss is reported in the table, exit 0).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adaptive } from './adaptive.js';
import { bulkCancel } from './bulk-cancel.js';
import { client } from './client.js';
import { describeMachine, machineInfo } from './lib/machine.js';
import { markdownTable, textTable, type Benchmark, type Row } from './lib/report.js';
import { polling } from './polling.js';
import { shutdown } from './shutdown.js';
import { stores } from './stores.js';
import { sweeps } from './sweeps.js';
import { telemetry } from './telemetry.js';
import { tracking } from './tracking.js';

const BENCHMARKS: readonly Benchmark[] = [bulkCancel, tracking, polling, shutdown, client, stores, telemetry, adaptive, sweeps];
const FLAGS = ['--full', '--breakdown', '--profile', '--markdown', '--strict'] as const;

const args = process.argv.slice(2);
const writeDocArg = args.find((a) => a.startsWith('--write-doc='));
const docSection = writeDocArg?.slice('--write-doc='.length);
const names = args.filter((a) => !a.startsWith('--'));
for (const arg of args) {
  const known = (FLAGS as readonly string[]).includes(arg) || arg === writeDocArg || BENCHMARKS.some((b) => b.name === arg);
  if (!known || docSection === '') {
    console.error(`unknown argument ${arg}; benchmarks: ${BENCHMARKS.map((b) => b.name).join(', ')}; flags: ${FLAGS.join(' ')} --write-doc=<section>`);
    process.exit(2);
  }
}
const has = (flag: (typeof FLAGS)[number]): boolean => args.includes(flag);
const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.includes(b.name));
const full = has('--full');
const machine = machineInfo();
const logLines: string[] = [];
const log = (line: string): void => {
  logLines.push(line);
  process.stderr.write(`${line}\n`);
};

log(`taskguard benchmarks, ${full ? 'full' : 'quick'} mode: ${describeMachine(machine)}`);
const started = performance.now();
const rows: Row[] = [];
for (const benchmark of selected) {
  log(`\n== ${benchmark.name}: ${benchmark.title}`);
  const t0 = performance.now();
  try {
    rows.push(...(await benchmark.run({ full, breakdown: has('--breakdown'), profile: has('--profile'), log })));
  } catch (error) {
    log(`  FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    rows.push({ benchmark: benchmark.name, metric: 'did not complete', ours: '—', baseline: '—', ratio: '—', target: '—', verdict: 'MISS' });
  }
  log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
const totalS = (performance.now() - started) / 1000;
const loadAtEnd = machineInfo().loadAverage;
const misses = rows.filter((r) => r.verdict === 'MISS').length;
const footer = `${full ? 'full' : 'quick'} mode, ${totalS.toFixed(1)} s in total; load average at the end ${loadAtEnd.join(' / ')}; ${misses === 0 ? 'every target met' : `${misses} target(s) missed`}`;

console.log(`\n${textTable(rows)}\n`);
console.log(`${describeMachine(machine)}\n${footer}`);
if (has('--markdown')) console.log(`\n${markdownTable(rows)}`);
if (docSection !== undefined) writeDoc(docSection);
// A miss is a finding to read in the table, not a crash: only --strict (for a gate) turns it into exit 1.
process.exitCode = misses > 0 && has('--strict') ? 1 : 0;

function writeDoc(section: string): void {
  const path = fileURLToPath(new URL('../docs/performance.md', import.meta.url));
  const doc = readFileSync(path, 'utf8');
  const begin = `<!-- bench:${section}:begin -->`;
  const end = `<!-- bench:${section}:end -->`;
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/performance.md has no ${begin} … ${end} section`);
  const shown = args.filter((a) => a !== writeDocArg);
  const command = ['npm run bench', ...(shown.length > 0 ? ['--', ...shown] : [])].join(' ');
  const body = [
    begin,
    '',
    `Command: \`${command}\` (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Machine: ${describeMachine(machine)}.`,
    '',
    `Result: ${footer}.`,
    '',
    markdownTable(rows),
    '',
    '<details><summary>The run\'s log</summary>',
    '',
    '```text',
    ...logLines,
    '```',
    '',
    '</details>',
    '',
    end,
  ].join('\n');
  writeFileSync(path, doc.slice(0, from) + body + doc.slice(to + end.length));
  process.stderr.write(`wrote section "${section}" of ${path}\n`);
}
