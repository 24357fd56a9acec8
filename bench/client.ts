/**
 * 5. Client overhead.
 *
 * The CPU time of one `agent.getStatus` through our client versus a bare `fetch` loop (`fetch` + `json()`,
 * as people write it) against the same keep-alive simulator, 8 requests in flight each, in this process
 * (`process.cpuUsage`). The simulator runs in its own process with `latencyMs: 0` (set explicitly): with
 * any latency both loops would wait on the server and say little about the client. Rounds alternate
 * between the two; each round gives a ratio (ours ÷ bare), and the median of those ratios is judged, so
 * that the load other processes put on the machine, which moves from one round to the next, weighs on
 * both sides of each ratio alike. Target: ≤ 1.50×. The request rates are reported beside it.
 *
 * `--breakdown` measures the layers in between (and below: `node:http`), plus prototypes of a leaner core
 * (bench/lib/lean-core.ts), so a miss is attributed layer by layer. `--profile` runs the bare loop and
 * ours under V8's sampler, in this process and after the rounds, and bills each sample to its layer
 * (bench/lib/cpu-layers.ts).
 */
import ky from 'ky';
import pRetry from 'p-retry';
import { AgentClient } from '../src/index.js';
import { agentHeaders, fetchStatus, KeepAliveHttp } from './lib/bare-http.js';
import { logLayers, profileLoop } from './lib/cpu-layers.js';
import { LeanFetchCore, LeanHttpCore } from './lib/lean-core.js';
import { RemoteSimulator } from './lib/remote-sim.js';
import { int, ratio, verdict, type Benchmark, type BenchOptions, type Row } from './lib/report.js';
import { cpuMicros, median } from './lib/stats.js';

const IN_FLIGHT = 8;
/** Our CPU per request ÷ bare fetch's. */
const TARGET = 1.5;
const BARE = 'bare fetch + json()';
const OURS = 'AgentClient.getStatus (ours)';

interface Sample {
  readonly perSecond: number;
  readonly cpuPerRequest: number;
}

/** `IN_FLIGHT` loops calling `request` for `ms` milliseconds; resolves with the number of requests. */
async function loop(request: () => Promise<unknown>, ms: number): Promise<number> {
  let count = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await request();
        count++;
      }
    }),
  );
  return count;
}

async function measure(request: () => Promise<unknown>, ms: number): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const count = await loop(request, ms);
  return { perSecond: count / ((performance.now() - start) / 1000), cpuPerRequest: cpuMicros(cpu) / count };
}

export const client: Benchmark = {
  name: 'client',
  title: 'Client overhead',
  async run(options: BenchOptions): Promise<Row[]> {
    const rounds = options.full ? 7 : 5;
    const roundMs = options.full ? 2_000 : 1_000;
    const sim = await RemoteSimulator.start({ faults: { latencyMs: 0 } });
    const http = new KeepAliveHttp();
    const lean = new LeanHttpCore(sim.url, sim.agentKey);
    try {
      const [runId] = await sim.createAgentRuns(1);
      const path = `api/v1/tasks/${runId!}/status`;
      const url = `${sim.url}/${path}`;
      const headers = agentHeaders(sim.agentKey);
      const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
      const variants: Record<string, () => Promise<unknown>> = {
        [BARE]: () => fetchStatus(url, headers),
        [OURS]: () => agent.getStatus(runId!),
      };
      const signal = new AbortController().signal;
      if (options.breakdown) {
        const kyOptions = { prefixUrl: `${sim.url}/`, retry: 0, timeout: false, throwHttpErrors: false, redirect: 'manual' } as const;
        // ky as most code drives it: headers among its defaults and the attempt's signal as its `signal`.
        const kyPlain = ky.create({ ...kyOptions, headers });
        // ky as the core drives it (src/clients/core.ts): headers set and the request sent in a beforeRequest hook.
        const kyHooked = ky.create({
          ...kyOptions,
          hooks: {
            beforeRequest: [
              (request, kyRequestOptions) => {
                for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
                return fetch(request, { signal: (kyRequestOptions.context as { signal: AbortSignal }).signal });
              },
            ],
          },
        });
        const withAttempt = <T>(send: (signal: AbortSignal) => Promise<T>): Promise<T> => {
          const attempt = new AbortController();
          const timer = setTimeout(() => attempt.abort(), 30_000);
          return send(attempt.signal).finally(() => clearTimeout(timer));
        };
        const parse = (response: Response): Promise<unknown> => response.text().then((text) => JSON.parse(text) as unknown);
        const leanFetch = new LeanFetchCore(sim.url, sim.agentKey);
        Object.assign(variants, {
          'node:http keep-alive + JSON.parse': () => http.request(url, { headers }),
          'fetch + AbortController + 30 s timer': () => withAttempt((attempt) => fetch(url, { headers, signal: attempt }).then(parse)),
          'fetch(new Request), signal on the Request': () => withAttempt((attempt) => fetch(new Request(url, { headers, redirect: 'manual', signal: attempt })).then(parse)),
          'p-retry around fetch': () => pRetry(() => fetchStatus(url, headers), { retries: 2, minTimeout: 0 }),
          'ky, headers and signal as ky options + timer + parse': () => withAttempt((attempt) => kyPlain(path, { signal: attempt }).then(parse)),
          "ky, the core's beforeRequest hook + timer + parse": () => withAttempt((attempt) => kyHooked(path, { context: { signal: attempt } }).then(parse)),
          'AgentClient.getStatus with a signal (as the manager calls it)': () => agent.getStatus(runId!, { signal }),
          'prototype: core without ky, p-retry after a failure (fetch)': () => leanFetch.get(path),
          'prototype: same core over node:http keep-alive': () => lean.get(path),
        });
      }
      const names = Object.keys(variants);
      // Warm-up (JIT, connections): not measured.
      // ours needs a few thousand calls before its ratio settles (JIT of ky, p-retry and undici's Request paths).
      for (const name of names) await measure(variants[name]!, options.breakdown ? 1_500 : 3_000);
      const samples = new Map<string, Sample[]>(names.map((name) => [name, []]));
      for (let round = 0; round < rounds; round++) {
        for (const name of names) samples.get(name)!.push(await measure(variants[name]!, roundMs));
        const bare = samples.get(BARE)!.at(-1)!;
        const ours = samples.get(OURS)!.at(-1)!;
        options.log(
          `  round ${round + 1}/${rounds}: ours ${ours.cpuPerRequest.toFixed(0)} µs CPU/req (${int(ours.perSecond)}/s), ` +
            `bare fetch ${bare.cpuPerRequest.toFixed(0)} µs CPU/req (${int(bare.perSecond)}/s) → CPU ${ratio(ours.cpuPerRequest / bare.cpuPerRequest)}`,
        );
      }
      const summary = (name: string): Sample => ({
        perSecond: median(samples.get(name)!.map((s) => s.perSecond)),
        cpuPerRequest: median(samples.get(name)!.map((s) => s.cpuPerRequest)),
      });
      /** The median over the rounds of `name`'s CPU per request ÷ bare fetch's in the same round. */
      const cpuRatio = (name: string): number => median(samples.get(name)!.map((s, round) => s.cpuPerRequest / samples.get(BARE)![round]!.cpuPerRequest));
      const bare = summary(BARE);
      const ours = summary(OURS);
      const oursRatio = cpuRatio(OURS);
      const rows: Row[] = [
        {
          benchmark: 'client',
          metric: `getStatus CPU per request, ${IN_FLIGHT} in flight, keep-alive, 0 ms (median of per-round ratios)`,
          ours: `${ours.cpuPerRequest.toFixed(0)} µs`,
          baseline: `bare fetch: ${bare.cpuPerRequest.toFixed(0)} µs`,
          ratio: ratio(oursRatio),
          target: `≤ ${TARGET.toFixed(2)}×`,
          verdict: verdict(oursRatio <= TARGET),
        },
        {
          benchmark: 'client',
          metric: `getStatus req/s, ${IN_FLIGHT} in flight, keep-alive, 0 ms`,
          ours: `${int(ours.perSecond)}/s`,
          baseline: `bare fetch: ${int(bare.perSecond)}/s`,
          ratio: ratio(ours.perSecond / bare.perSecond),
          target: 'reported',
          verdict: 'info',
        },
      ];
      if (options.breakdown) {
        // Layers are compared by CPU per request: it is what bounds the rate here, and unlike a rate
        // measured a few seconds apart it does not move with the load other processes put on the machine.
        options.log('  layers (median CPU per request, median of per-round ratios layer CPU / bare CPU, median req/s):');
        for (const name of names) {
          const s = summary(name);
          options.log(`    ${name.padEnd(62)} ${s.cpuPerRequest.toFixed(0).padStart(4)} µs  ${ratio(cpuRatio(name)).padStart(6)}  ${int(s.perSecond).padStart(7)}/s`);
          if (name === BARE || name === OURS) continue;
          rows.push({
            benchmark: 'client',
            metric: `layer: ${name} (${int(s.perSecond)}/s)`,
            ours: `${s.cpuPerRequest.toFixed(0)} µs CPU/req`,
            baseline: `bare fetch: ${bare.cpuPerRequest.toFixed(0)} µs`,
            ratio: ratio(cpuRatio(name)),
            target: 'reported',
            verdict: 'info',
          });
        }
      }
      if (options.profile) {
        const profileMs = options.full ? 10_000 : 5_000;
        const profiled = [
          { name: 'bare fetch', profile: await profileLoop(() => loop(variants[BARE]!, profileMs)) },
          { name: 'ours', profile: await profileLoop(() => loop(variants[OURS]!, profileMs)) },
          { name: 'ours+signal', profile: await profileLoop(() => loop(() => agent.getStatus(runId!, { signal }), profileMs)) },
        ];
        options.log(`  profile (V8 sampler in this process, ${profileMs / 1000} s per loop after the rounds; CPU billed to the innermost layer on each stack):`);
        logLayers(profiled, options.log);
        const ourProfile = profiled[1]!.profile;
        options.log(`  hottest functions of ours (self time, µs of CPU per request, ${int(ourProfile.requests)} requests):`);
        for (const { name, layer, micros } of ourProfile.hottest) options.log(`    ${micros.toFixed(1).padStart(6)}  ${layer.padEnd(48)} ${name}`);
      }
      return rows;
    } finally {
      http.close();
      lean.close();
      await sim.close();
    }
  },
};
