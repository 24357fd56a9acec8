/**
 * A real `redis-server` for the tests: started on a free loopback port in a temporary directory, stopped
 * (and the directory removed) by `stop()`. `restart()` stops it and starts it again on the same port
 * with the same directory; with `persist: true` it runs with an append-only file fsynced on every write,
 * so the data survives the restart.
 *
 * The binary must be installed: `scripts/ensure-redis.sh` installs the Debian package `redis-server`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** Every server started and not yet stopped, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface RedisServerOptions {
  /** Keep the data across `restart()` (append-only file, fsync always). Default false: nothing on disk. */
  readonly persist?: boolean;
}

/** A redis-server this test process runs. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly dir: string;
  /** Whether the server process is up. */
  readonly running: boolean;
  /** Stops the server (SIGTERM: it writes its append-only file and exits) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (after `stop()`). */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>;
}

/** Throws a clear error if the redis-server binary is missing. */
export function assertRedisServerInstalled(): void {
  const probe = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `redis-server is not installed (running "${BINARY} --version" failed: ${probe.error?.message ?? probe.stderr}). ` +
        'The Redis tests start their own server: run scripts/ensure-redis.sh (it installs the Debian package redis-server), ' +
        'or point REDIS_SERVER_BIN at a redis-server binary.',
    );
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts a redis-server on a free loopback port. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisServerInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'taskguard-redis-'));
  const persistence = options.persist
    ? ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']
    : ['--appendonly', 'no', '--save', ''];
  let child: ChildProcess | undefined;
  let port = 0;
  let output = '';

  const launch = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'notice', ...persistence];
    output = '';
    const started = spawn(BINARY, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    live.add(started);
    started.once('exit', () => live.delete(started));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server did not become ready on port ${port} within ${START_TIMEOUT_MS} ms\n${output}`)), START_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) done();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(new Error(`redis-server exited (code ${code}, signal ${signal}) before it was ready\n${output}`));
      const cleanup = (): void => {
        clearTimeout(timer);
        started.stdout!.off('data', onData);
        started.off('exit', onExit);
      };
      const done = (): void => {
        cleanup();
        // Keep draining its output so that the pipe never fills up.
        started.stdout!.resume();
        resolve();
      };
      const fail = (error: Error): void => {
        cleanup();
        started.kill('SIGKILL');
        reject(error);
      };
      started.stdout!.on('data', onData);
      started.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString('utf8')));
      started.once('exit', onExit);
    });
  };

  // Another process may take the free port between the probe and the start: try a few ports.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3 || !/Address already in use|bind/i.test(output)) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop,
    async start() {
      if (server.running) throw new Error('redis-server is already running');
      await launch();
    },
    async restart() {
      await stop();
      await launch();
    },
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
