/**
 * 5. Client overhead.
 *
 * `agent.getStatus` requests per second through our client versus a bare `fetch` loop (`fetch` + `json()`,
 * as people write it) against the same keep-alive simulator, 8 requests in flight each. The simulator
 * runs in its own process with `latencyMs: 0` (set explicitly): with any latency both loops would wait
 * on the server and the ratio would say nothing about the client. Rounds alternate between the two, and
 * the medians are compared. Target: ≥ 0.80×.
 *
 * `--breakdown` measures the layers in between (and below: `node:http`), plus prototypes of a leaner core
 * (bench/lib/lean-core.ts), so a miss is attributed layer by layer. `--profile` runs our loop alone in a
 * child under `node --cpu-prof` and summarizes where the time goes (bench/lib/profile.ts).
 */
import ky from 'ky';
import pRetry from 'p-retry';
import { AgentClient } from '../src/index.js';
import { agentHeaders, fetchStatus, KeepAliveHttp } from './lib/bare-http.js';
import { LeanFetchCore, LeanHttpCore } from './lib/lean-core.js';
import { CLIENT_QUESTIONS, profileTarget } from './lib/profile.js';
import { RemoteSimulator } from './lib/remote-sim.js';
import { int, ratio, verdict, type Benchmark, type BenchOptions, type Row } from './lib/report.js';
import { cpuMicros, median } from './lib/stats.js';

const IN_FLIGHT = 8;
const TARGET = 0.8;

interface Sample {
  readonly perSecond: number;
  readonly cpuPerRequest: number;
}

/** `IN_FLIGHT` loops calling `request` for `ms` milliseconds. */
async function measure(request: () => Promise<unknown>, ms: number): Promise<Sample> {
  let count = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await request();
        count++;
      }
    }),
  );
  const elapsed = performance.now() - start;
  return { perSecond: count / (elapsed / 1000), cpuPerRequest: cpuMicros(cpu) / count };
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
        'bare fetch + json()': () => fetchStatus(url, headers),
        'AgentClient.getStatus (ours)': () => agent.getStatus(runId!),
      };
      if (options.breakdown) {
        const kyInstance = ky.create({ prefixUrl: `${sim.url}/`, headers, retry: 0, timeout: false, throwHttpErrors: false, redirect: 'manual' });
        const signal = new AbortController().signal;
        const leanFetch = new LeanFetchCore(sim.url, sim.agentKey);
        Object.assign(variants, {
          'node:http keep-alive + JSON.parse': () => http.request(url, { headers }),
          'fetch + AbortController + 30 s timer': () => {
            const attempt = new AbortController();
            const timer = setTimeout(() => attempt.abort(), 30_000);
            return fetchStatus(url, headers).finally(() => clearTimeout(timer));
          },
          'fetch(new Request) + request.clone()': () => {
            const request = new Request(url, { headers, redirect: 'manual' });
            request.clone();
            return fetch(request).then((r) => r.json());
          },
          'p-retry around fetch': () => pRetry(() => fetchStatus(url, headers), { retries: 2, minTimeout: 0 }),
          'ky alone (our ky options) + text + parse': () => kyInstance(path).then((r) => r.text()).then((t) => JSON.parse(t) as unknown),
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
        const bare = samples.get('bare fetch + json()')!.at(-1)!;
        const ours = samples.get('AgentClient.getStatus (ours)')!.at(-1)!;
        options.log(
          `  round ${round + 1}/${rounds}: ours ${int(ours.perSecond)}/s (${ours.cpuPerRequest.toFixed(0)} µs CPU/req), ` +
            `bare fetch ${int(bare.perSecond)}/s (${bare.cpuPerRequest.toFixed(0)} µs CPU/req) → ${ratio(ours.perSecond / bare.perSecond)}`,
        );
      }
      const summary = (name: string): Sample => ({
        perSecond: median(samples.get(name)!.map((s) => s.perSecond)),
        cpuPerRequest: median(samples.get(name)!.map((s) => s.cpuPerRequest)),
      });
      const bare = summary('bare fetch + json()');
      const ours = summary('AgentClient.getStatus (ours)');
      const rows: Row[] = [
        {
          benchmark: 'client',
          metric: `getStatus req/s, ${IN_FLIGHT} in flight, keep-alive, 0 ms (CPU/req ${ours.cpuPerRequest.toFixed(0)} vs ${bare.cpuPerRequest.toFixed(0)} µs)`,
          ours: `${int(ours.perSecond)}/s`,
          baseline: `bare fetch: ${int(bare.perSecond)}/s`,
          ratio: ratio(ours.perSecond / bare.perSecond),
          target: `≥ ${TARGET.toFixed(2)}×`,
          verdict: verdict(ours.perSecond / bare.perSecond >= TARGET),
        },
      ];
      if (options.breakdown) {
        // Layers are compared by CPU per request: it is what bounds the rate here, and unlike a rate
        // measured a few seconds apart it does not move with the load other processes put on the machine.
        options.log('  layers (median CPU per request, rate-equivalent ratio bare CPU / layer CPU, median req/s):');
        for (const name of names) {
          const s = summary(name);
          options.log(`    ${name.padEnd(62)} ${s.cpuPerRequest.toFixed(0).padStart(4)} µs  ${ratio(bare.cpuPerRequest / s.cpuPerRequest).padStart(6)}  ${int(s.perSecond).padStart(7)}/s`);
          if (name === 'bare fetch + json()' || name === 'AgentClient.getStatus (ours)') continue;
          rows.push({
            benchmark: 'client',
            metric: `layer: ${name} (${int(s.perSecond)}/s)`,
            ours: `${s.cpuPerRequest.toFixed(0)} µs CPU/req`,
            baseline: `bare fetch: ${bare.cpuPerRequest.toFixed(0)} µs`,
            ratio: ratio(bare.cpuPerRequest / s.cpuPerRequest),
            target: 'reported',
            verdict: 'info',
          });
        }
      }
      if (options.profile) await profileTarget(['status', sim.url, sim.agentKey, runId!, String(options.full ? 10 : 5)], CLIENT_QUESTIONS, options.log);
      return rows;
    } finally {
      http.close();
      lean.close();
      await sim.close();
    }
  },
};
