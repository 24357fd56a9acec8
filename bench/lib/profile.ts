/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and says where the time went: self time per
 * component (a package, Node's fetch, taskguard's own code, GC), and the total time of the frames the
 * client benchmark asks about (ky's Request building and cloning, AbortSignal.any, p-retry, …).
 *
 * Total time counts a sample for a frame when the frame is anywhere on its stack. An async function's
 * continuation starts from the microtask queue, not from its caller, so "total" covers each synchronous
 * stretch of a function and what it calls — a lower bound of what the function causes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode } from '../../tools/child.js';
import { int } from './report.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A question for {@link summarizeProfile}: which frames make up one cost. */
export interface FrameQuestion {
  readonly label: string;
  /** Matches a frame by function name and script URL. */
  matches(functionName: string, url: string): boolean;
}

export interface ProfileSummary {
  /** Busy time sampled (idle excluded), in milliseconds. */
  readonly busyMs: number;
  /** Self time per component, share of busy time, largest first. */
  readonly components: { readonly name: string; readonly ms: number; readonly share: number }[];
  /** Total time per question, share of busy time. */
  readonly frames: { readonly label: string; readonly ms: number; readonly share: number }[];
  /** The functions with the most self time. */
  readonly hottest: { readonly name: string; readonly ms: number; readonly share: number }[];
}

/** The component a frame's self time belongs to. */
export function componentOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)' || functionName === '(root)') return 'V8 / native (program)';
  if (url.includes('/node_modules/')) return `npm: ${url.replace(/.*\/node_modules\/((?:@[^/]+\/)?[^/]+).*/, '$1')}`;
  if (url.includes('/src/clients/') || url.includes('/src/errors/') || url.includes('/src/util/')) return 'taskguard client (src/clients, errors, util)';
  if (url.includes('/src/manager/') || url.includes('/src/stores/')) return 'taskguard manager';
  if (url.includes('/src/simulator/')) return 'simulator';
  if (url.includes('/bench/')) return 'benchmark harness';
  if (url.startsWith('node:internal/deps/undici')) return "undici (Node's fetch)";
  if (url.startsWith('node:internal/abort_controller') || url.startsWith('node:internal/event_target')) return 'AbortController / EventTarget';
  if (url.startsWith('node:internal/webstreams')) return 'web streams';
  if (url.startsWith('node:')) return `node: ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  if (url === '') return `native: ${functionName || '(anonymous)'}`;
  return 'other';
}

/**
 * Summarizes `file`. With `fromMicros` (a `process.hrtime` timestamp in microseconds: V8 stamps samples
 * with the same monotonic clock), only the samples taken from then on count.
 */
export function summarizeProfile(file: string, questions: readonly FrameQuestion[], top = 15, fromMicros?: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  let stamp = profile.startTime;
  profile.samples.forEach((id, i) => {
    stamp += profile.timeDeltas[i] ?? 0;
    if (fromMicros !== undefined && stamp < fromMicros) return;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  let busy = 0;
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  const frames = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const component = componentOf(functionName, url);
    components.set(component, (components.get(component) ?? 0) + micros);
    const name = `${functionName || '(anonymous)'} ${url.replace(/.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    // Walk the stack once; each question counts this node's samples at most once.
    const hit = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      for (const question of questions) if (!hit.has(question.label) && question.matches(frame.functionName, frame.url)) hit.add(question.label);
    }
    for (const label of hit) frames.set(label, (frames.get(label) ?? 0) + micros);
  }
  const share = (micros: number): number => (busy === 0 ? 0 : micros / busy);
  return {
    busyMs: busy / 1000,
    components: [...components].sort((a, b) => b[1] - a[1]).map(([name, micros]) => ({ name, ms: micros / 1000, share: share(micros) })),
    frames: questions.map((q) => ({ label: q.label, ms: (frames.get(q.label) ?? 0) / 1000, share: share(frames.get(q.label) ?? 0) })),
    hottest: [...functions].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, micros]) => ({ name, ms: micros / 1000, share: share(micros) })),
  };
}

/** The frames the issue asks about: ky's Request building and cloning, AbortSignal.any, p-retry, … */
export const CLIENT_QUESTIONS: readonly FrameQuestion[] = [
  { label: 'ky: Ky constructor (options merge, new Request)', matches: (f, u) => u.includes('/ky/') && f === 'Ky' },
  { label: "ky: #fetch (the core's beforeRequest hook, which sends)", matches: (f, u) => u.includes('/ky/') && f === '#fetch' },
  { label: 'undici Request.clone', matches: (f, u) => u.includes('undici') && f === 'clone' },
  { label: 'new Request (undici _Request)', matches: (f, u) => u.includes('undici') && f === '_Request' },
  { label: 'AbortSignal.any', matches: (f, u) => u.includes('abort_controller') && f === 'any' },
  { label: 'new AbortController / AbortSignal', matches: (f, u) => u.includes('abort_controller') && f === 'createAbortSignal' },
  { label: "under p-retry's frames (incl. the first attempt's synchronous part)", matches: (_f, u) => u.includes('/p-retry/') },
  { label: 'taskguard RequestCore (src/clients/core.ts, response-body.ts)', matches: (_f, u) => u.includes('/src/clients/core.ts') || u.includes('/src/clients/response-body.ts') },
  { label: 'core readBody (async iteration of the body)', matches: (f, u) => u.includes('/src/clients/response-body.ts') && f === 'readBody' },
  { label: 'taskguard manager (src/manager, src/stores)', matches: (_f, u) => u.includes('/src/manager/') || u.includes('/src/stores/') },
  { label: 'p-limit', matches: (_f, u) => u.includes('/p-limit/') },
  { label: "undici fetch (Node's fetch, all of it)", matches: (_f, u) => u.startsWith('node:internal/deps/undici') },
  { label: 'web streams (request/response bodies, clone tees)', matches: (_f, u) => u.startsWith('node:internal/webstreams') },
  { label: 'makeTransferable (each web stream made transferable)', matches: (f) => f === 'makeTransferable' },
];

/**
 * Runs bench/fixtures/profile-target.ts with `args` under `node --cpu-prof`, then logs the summary:
 * self time per component, total time of each of `questions`, and the hottest functions, per request.
 */
export async function profileTarget(args: readonly string[], questions: readonly FrameQuestion[], log: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'taskguard-prof-'));
  try {
    const child = startNode('bench/fixtures/profile-target.ts', { args, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
    const done = await child.waitForJson<{ requests: number }>('DONE', 300_000);
    await child.exited;
    logProfile(profileIn(dir), `profile-target.ts ${args[0]!}, warm-up included`, done.requests, questions, log);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The `.cpuprofile` that `node --cpu-prof --cpu-prof-dir=<dir>` wrote. */
export function profileIn(dir: string): string {
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f))[0];
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  return file;
}

/** Logs the summary of a profile, per request. */
export function logProfile(file: string, what: string, requests: number, questions: readonly FrameQuestion[], log: (line: string) => void, fromMicros?: number): void {
  const summary = summarizeProfile(file, questions, 15, fromMicros);
  const perRequest = (ms: number): string => `${((ms * 1000) / requests).toFixed(1)} µs/req`;
  log(`  profile (node --cpu-prof, ${what}: ${int(requests)} requests, ${summary.busyMs.toFixed(0)} ms busy = ${perRequest(summary.busyMs)}):`);
  log('    self time by component:');
  for (const c of summary.components.slice(0, 14)) log(`      ${(c.share * 100).toFixed(1).padStart(5)}%  ${perRequest(c.ms).padStart(13)}  ${c.name}`);
  log('    total time of the suspects (synchronous stretches, see bench/lib/profile.ts):');
  for (const f of summary.frames) log(`      ${(f.share * 100).toFixed(1).padStart(5)}%  ${perRequest(f.ms).padStart(13)}  ${f.label}`);
  log('    hottest functions (self):');
  for (const h of summary.hottest) log(`      ${(h.share * 100).toFixed(1).padStart(5)}%  ${h.name}`);
}

/** The scheduler's poll path: what a poll costs besides the request itself. */
export const POLL_QUESTIONS: readonly FrameQuestion[] = [
  { label: 'new AbortController / AbortSignal (one per poll)', matches: (f, u) => u.includes('abort_controller') && f === 'createAbortSignal' },
  { label: 'scheduler + heap (src/manager/scheduler.ts, heap.ts)', matches: (_f, u) => u.includes('/src/manager/scheduler.ts') || u.includes('/src/manager/heap.ts') },
  { label: 'tracker (src/manager/tracker.ts)', matches: (_f, u) => u.includes('/src/manager/tracker.ts') },
  { label: 'limiter + p-limit', matches: (_f, u) => u.includes('/src/manager/limiter.ts') || u.includes('/p-limit/') },
  { label: 'registry + store write-through', matches: (_f, u) => u.includes('/src/manager/registry.ts') || u.includes('/src/stores/') },
  { label: 'backoffDelay', matches: (f) => f === 'backoffDelay' },
  { label: 'events (eventemitter3)', matches: (_f, u) => u.includes('/eventemitter3/') },
  { label: 'fake clock (@sinonjs/fake-timers)', matches: (_f, u) => u.includes('/@sinonjs/') },
  { label: 'close() at the end (settles every task: errors, not polls)', matches: (f) => f === 'close' || f === 'abandon' },
];
