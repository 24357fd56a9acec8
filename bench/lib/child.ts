/**
 * Runs a benchmark fixture in a child Node process under tsx and reads its tagged lines
 * (`TAG <json>`) from stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Prints `TAG <json>` on stdout synchronously, so nothing is lost when the process exits right after. */
export function emit(tag: string, data?: unknown): void {
  writeSync(1, data === undefined ? `${tag}\n` : `${tag} ${JSON.stringify(data)}\n`);
}

/** A fixture process. */
export class Fixture {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  /** Resolves when the process has exited and its output is read, with `performance.now()` of the exit event. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; exitAt: number }>;
  #partial = '';
  readonly #waiters = new Set<() => void>();

  constructor(fixture: string, args: readonly string[], options: { nodeArgs?: readonly string[]; env?: Record<string, string> } = {}) {
    const file = fileURLToPath(new URL(`../fixtures/${fixture}`, import.meta.url));
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', file, ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.#notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    let exitAt = 0;
    this.child.once('exit', () => (exitAt = performance.now()));
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        if (this.#partial !== '') this.lines.push(this.#partial);
        this.#notify();
        resolve({ code, signal, exitAt: exitAt || performance.now() });
      });
    });
  }

  /** The JSON after the first line tagged `tag`, waiting for it; rejects if the process ends first. */
  waitFor<T>(tag: string, timeoutMs = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const line = this.lines.find((l) => l === tag || l.startsWith(`${tag} `));
        if (line !== undefined) return finish(() => resolve((line === tag ? undefined : JSON.parse(line.slice(tag.length + 1))) as T));
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish(() => reject(new Error(`fixture exited before ${tag}\n${this.describe()}`)));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${tag} within ${timeoutMs} ms\n${this.describe()}`))), timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      void this.exited.then(check);
      check();
    });
  }

  /** Every JSON line tagged `tag`. */
  tagged<T>(tag: string): T[] {
    return this.lines.filter((l) => l.startsWith(`${tag} `)).map((l) => JSON.parse(l.slice(tag.length + 1)) as T);
  }

  /** Writes one JSON line to the child's stdin. */
  send(data: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(data)}\n`);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  describe(): string {
    return `--- stdout ---\n${this.lines.slice(-20).join('\n')}\n--- stderr ---\n${this.stderr.slice(-4000)}`;
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** Reads the first JSON line from stdin (a fixture's input). */
export function readStdinJson<T>(): Promise<T> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    const onData = (chunk: string): void => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline < 0) return;
      process.stdin.off('data', onData);
      process.stdin.pause();
      try {
        resolve(JSON.parse(text.slice(0, newline)) as T);
      } catch (error) {
        reject(error as Error);
      }
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', () => reject(new Error('stdin ended before a JSON line')));
  });
}
