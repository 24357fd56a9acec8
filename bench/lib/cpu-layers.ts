/**
 * Where the CPU of one request goes, layer by layer, measured in the benchmark's own process: a loop
 * runs under V8's sampling profiler (`node:inspector`), and each sample is billed to the innermost
 * layer on its stack — ky, Node's `fetch`, p-retry, taskguard's core, … — so that what a layer makes
 * Node do (ky building its `Request`, the core arming its timer) is billed to that layer, not to Node.
 * Samples with no layer on their stack are the work `fetch` goes on with after it returned (the
 * connection, the HTTP parser, the body's streams): they are split by the part of Node they run in.
 *
 * The shares of the samples are scaled to the loop's CPU time (`process.cpuUsage`), so the figures add
 * up to the CPU per request measured under the profiler (a few percent above the plain measurement).
 */
import { Session, type Profiler, type Runtime } from 'node:inspector/promises';

/** One loop under the profiler: its requests and CPU time, and what each layer took of it. */
export interface LayerProfile {
  readonly requests: number;
  readonly cpuPerRequest: number;
  /** Microseconds of CPU per request, by layer. */
  readonly layers: ReadonlyMap<string, number>;
  /** The functions with the most self time, with their layer, in microseconds per request. */
  readonly hottest: readonly { readonly name: string; readonly layer: string; readonly micros: number }[];
}

type Frame = Runtime.CallFrame;

const FETCH_BODY_READERS = new Set(['text', 'json', 'arrayBuffer', 'consumeBody']);

/** Node's global `fetch`, or undici's (bundled as `fetch2`) that it calls. */
function isFetch(functionName: string, url: string): boolean {
  return (url.startsWith('node:internal/deps/undici') && functionName === 'fetch2') || (url.includes('exposed-window-or-worker') && functionName === 'fetch');
}

/** The layer a sample belongs to, from its stack (leaf first). */
export function layerOf(stack: readonly Frame[]): string {
  const leaf = stack[0]!;
  if (leaf.functionName === '(garbage collector)') return 'GC';
  if (leaf.functionName === '(program)') return 'V8 (program)';
  if (leaf.functionName === 'parse' && leaf.url === '') return 'JSON.parse';
  for (const { functionName, url } of stack) {
    if (url.includes('/node_modules/ky/')) return 'ky';
    if (isFetch(functionName, url)) return 'fetch() until it returns';
    if (url.startsWith('node:internal/deps/undici') && FETCH_BODY_READERS.has(functionName)) return 'Response body read (text/json)';
    if (url.includes('/node_modules/p-retry/')) return 'p-retry';
    if (url.includes('/node_modules/@opentelemetry/') || url.includes('/src/telemetry/')) return 'telemetry (no SDK: no-op)';
    if (/\/src\/(clients|errors|util)\//.test(url)) return 'taskguard core';
    if (url.includes('/bench/')) return 'benchmark loop';
  }
  const { functionName, url } = leaf;
  if (functionName === 'runMicrotasks') return 'after fetch: microtask queue';
  if (url.startsWith('node:internal/deps/undici') || url.startsWith('wasm://')) return 'after fetch: undici (connection, parser, Response)';
  if (url.startsWith('node:internal/webstreams') || url.includes('js_transferable')) return 'after fetch: web streams (response body)';
  if (url.startsWith('node:internal/abort_controller') || url.startsWith('node:internal/event_target') || url === 'node:events') return 'after fetch: AbortSignal / events';
  return 'after fetch: socket, Node streams, other';
}

/** Runs `loop` (which resolves with the number of requests it made) under the profiler. */
export async function profileLoop(loop: () => Promise<number>, samplingMicros = 200, top = 15): Promise<LayerProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: samplingMicros });
    await session.post('Profiler.start');
    const cpu = process.cpuUsage();
    const requests = await loop();
    const used = process.cpuUsage(cpu);
    const { profile } = await session.post('Profiler.stop');
    return attribute(profile, requests, (used.user + used.system) / requests, top);
  } finally {
    session.disconnect();
  }
}

function attribute(profile: Profiler.Profile, requests: number, cpuPerRequest: number, top: number): LayerProfile {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0)));

  let busy = 0;
  const layers = new Map<string, number>();
  const functions = new Map<string, { layer: string; micros: number }>();
  for (const [id, micros] of self) {
    const stack: Frame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
    const { functionName, url, lineNumber } = stack[0]!;
    if (functionName === '(idle)' || functionName === '(root)') continue;
    busy += micros;
    const layer = layerOf(stack);
    layers.set(layer, (layers.get(layer) ?? 0) + micros);
    const name = `${functionName || '(anonymous)'} ${url.replace(/.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${lineNumber + 1}`;
    const entry = functions.get(name) ?? { layer, micros: 0 };
    entry.micros += micros;
    functions.set(name, entry);
  }
  // Sampled time is wall time between samples; the loop's CPU time is what the benchmark compares.
  const scale = busy === 0 ? 0 : cpuPerRequest / busy;
  return {
    requests,
    cpuPerRequest,
    layers: new Map([...layers].sort((a, b) => b[1] - a[1]).map(([layer, micros]) => [layer, micros * scale])),
    hottest: [...functions]
      .sort((a, b) => b[1].micros - a[1].micros)
      .slice(0, top)
      .map(([name, { layer, micros }]) => ({ name, layer, micros: micros * scale })),
  };
}

/** Logs the layers of several profiles side by side (µs of CPU per request), the first one's order. */
export function logLayers(profiles: readonly { readonly name: string; readonly profile: LayerProfile }[], log: (line: string) => void): void {
  const width = 14;
  const layers = [...new Set(profiles.flatMap(({ profile }) => [...profile.layers.keys()]))];
  const last = profiles.at(-1)!.profile.layers;
  layers.sort((a, b) => (last.get(b) ?? 0) - (last.get(a) ?? 0));
  log(`    ${'µs of CPU per request'.padEnd(52)}${profiles.map(({ name }) => name.padStart(width)).join('')}`);
  log(`    ${'all (under the profiler)'.padEnd(52)}${profiles.map(({ profile }) => profile.cpuPerRequest.toFixed(1).padStart(width)).join('')}`);
  for (const layer of layers) {
    const values = profiles.map(({ profile }) => profile.layers.get(layer) ?? 0);
    if (Math.max(...values) < 0.5) continue;
    log(`    ${layer.padEnd(52)}${values.map((v) => v.toFixed(1).padStart(width)).join('')}`);
  }
}
