/**
 * Registry stores: track/settle throughput with MemoryStore (the default), FileStore and RedisStore.
 *
 * Each round tracks N tasks of an in-process backend whose first poll answers `completed`, so every
 * task costs the manager one poll and the store three writes (add on track, update of the status,
 * remove on settle); the round ends when every task has settled and `manager.close()` has flushed the
 * writes to the store. The figures are tasks per second (median of the rounds) and the ratio to
 * MemoryStore (median of the per-round ratios; the rounds interleave the stores, so a busy machine
 * slows them alike). The backend costs nothing: the gap is the store's.
 *
 * FileStore runs with `fsync: 'always'` (its default: a sync per write, shared by the writes queued
 * meanwhile) and `'never'`. RedisStore runs against a `redis-server` this script starts on a free
 * loopback port (or `REDIS_URL` if set); without redis-server (run scripts/ensure-redis.sh) its rows
 * say so and the others still run.
 *
 * `tsx bench/stores.ts [--full]`; also exported as the `stores` benchmark of bench/run.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MemoryStore, TaskManager, type NormalizedStatus, type TaskBackend, type TaskStore } from '../src/index.js';
import { FileStore } from '../src/stores/file.js';
import { RedisStore } from '../src/stores/redis.js';
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js';
import { int, ratio, textTable, type Benchmark, type BenchOptions, type Row } from './lib/report.js';
import { median } from './lib/stats.js';

const COMPLETED: NormalizedStatus = { state: 'completed', raw: 'completed' };

/** A backend that answers at once: what is left to measure is the manager and its store. */
const instantBackend: TaskBackend = {
  getStatus: async () => COMPLETED,
  cancel: async () => COMPLETED,
};

interface StoreCase {
  readonly name: string;
  /** A fresh store for one round, and what to clean up after it. */
  make(round: number): { store: TaskStore; cleanup(): void };
}

/** One round: N tasks tracked, all settled, all writes flushed. Returns tasks per second. */
async function round(store: TaskStore, n: number, tag: string): Promise<number> {
  const manager = new TaskManager({
    backends: { bench: instantBackend },
    store,
    workerId: `bench-${tag.replace(/[^\w.:@-]/g, '_')}`,
    concurrency: 256,
    poll: { initialMs: 1, maxMs: 1, factor: 1, jitter: 0 },
  });
  await manager.ready();
  const start = performance.now();
  const done: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) done.push(manager.track({ kind: 'bench', id: `t${i}` }).done);
  await Promise.all(done);
  await manager.close(); // waits until every write has reached the store
  return n / ((performance.now() - start) / 1000);
}

/** One round of `storeCase` with a fresh store; tasks per second. */
async function once(storeCase: StoreCase, n: number, r: number): Promise<number> {
  const { store, cleanup } = storeCase.make(r);
  try {
    return await round(store, n, `${storeCase.name}-${r}`);
  } finally {
    cleanup();
  }
}

/**
 * Rounds interleave the stores (Memory, File, …, Memory, File, …) so that a busy machine slows them
 * alike; each store's ratio is the median of its per-round ratios to MemoryStore in the same round.
 */
async function measureAll(cases: readonly StoreCase[], n: number, rounds: number, log: (line: string) => void): Promise<{ rate: number; ratio: number }[]> {
  // Warm-up round, not counted: JIT, connections, the disk cache.
  for (const storeCase of cases) await once(storeCase, Math.min(n, 1_000), -1);
  const rates = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, storeCase] of cases.entries()) {
      (globalThis as { gc?: () => void }).gc?.();
      rates[i]!.push(await once(storeCase, n, r));
    }
  }
  const memory = rates[0]!;
  return cases.map((storeCase, i) => {
    const own = rates[i]!;
    const rate = median(own);
    const ratios = own.map((value, r) => value / memory[r]!);
    log(`  ${storeCase.name}: ${own.map((x) => int(x)).join(', ')} tasks/s → median ${int(rate)}, ${ratio(median(ratios))} of MemoryStore`);
    return { rate, ratio: median(ratios) };
  });
}

function fileCase(fsync: 'always' | 'never'): StoreCase {
  return {
    name: `FileStore fsync=${fsync}`,
    make(r) {
      const dir = mkdtempSync(join(tmpdir(), 'taskguard-bench-file-'));
      return { store: new FileStore({ path: join(dir, `journal-${r}.jsonl`), fsync }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  };
}

function redisCase(url: string): StoreCase {
  let runs = 0;
  return {
    name: 'RedisStore',
    make() {
      // A prefix per round: rounds never see each other's keys.
      return { store: new RedisStore({ url, prefix: `taskguard-bench-${process.pid}-${++runs}:` }), cleanup: () => {} };
    },
  };
}

export const stores: Benchmark = {
  name: 'stores',
  title: 'Registry stores: track/settle throughput vs MemoryStore',
  async run(options: BenchOptions): Promise<Row[]> {
    const n = options.full ? 20_000 : 5_000;
    const rounds = options.full ? 7 : 5;
    let server: RedisServer | undefined;
    let redisUrl = process.env['REDIS_URL'];
    let redisMissing: string | undefined;
    if (!redisUrl) {
      try {
        server = await startRedisServer();
        redisUrl = server.url;
      } catch (error) {
        redisMissing = error instanceof Error ? error.message.split('. ')[0]! : String(error);
        options.log(`  RedisStore skipped: ${redisMissing}`);
      }
    }
    const cases: StoreCase[] = [
      { name: 'MemoryStore', make: () => ({ store: new MemoryStore(), cleanup: () => {} }) },
      fileCase('always'),
      fileCase('never'),
      ...(redisUrl ? [redisCase(redisUrl)] : []),
    ];
    const rows: Row[] = [];
    try {
      options.log(`  N=${int(n)} tasks per round, ${rounds} rounds interleaved (+1 warm-up), 3 store writes per task`);
      const results = await measureAll(cases, n, rounds, options.log);
      const baseline = results[0]!.rate;
      for (const [i, storeCase] of cases.entries()) {
        const result = results[i]!;
        rows.push({
          benchmark: 'stores',
          metric: `${storeCase.name}, track+settle, N=${int(n)}`,
          ours: `${int(result.rate)} tasks/s`,
          baseline: `${int(baseline)} tasks/s (Memory)`,
          ratio: ratio(result.ratio),
          target: '—',
          verdict: 'info',
        });
      }
      if (redisMissing) rows.push({ benchmark: 'stores', metric: 'RedisStore', ours: 'not run', baseline: '—', ratio: '—', target: 'scripts/ensure-redis.sh', verdict: 'info' });
    } finally {
      await server?.dispose();
    }
    return rows;
  },
};

// Run on its own: `tsx bench/stores.ts [--full]`.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const full = process.argv.includes('--full');
  log(`== stores: ${stores.title} (${full ? 'full' : 'quick'})`);
  const rows = await stores.run({ full, breakdown: false, profile: false, log });
  console.log(`\n${textTable(rows)}`);
}
