/**
 * The one runner of child Node processes, for the tests and the benchmarks: a script of this repository
 * under tsx, its stdout read as lines (fixtures print `TAG <json>`), and the side a fixture talks back
 * with (`emit`, `readStdinJson`). Every child started is remembered, so that `stopAll` can clean up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** How a child ended, and when (`performance.now()` of this process at its `exit` event). */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

export interface NodeChildOptions {
  /** Arguments after the script. */
  readonly args?: readonly string[];
  /** Node flags before `--import tsx`, such as `--expose-gc`. */
  readonly nodeArgs?: readonly string[];
  /** Variables set over the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Names of the parent's variables not passed on: a fresh shell or clone would not have them. */
  readonly dropEnv?: RegExp;
  /** Written to stdin, which is then closed; without it, stdin is closed at once. */
  readonly input?: string;
}

const running = new Set<NodeChild>();

/** A script of this repository running in its own Node process. */
export class NodeChild {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<ChildExit>;
  exit: ChildExit | undefined;
  #partial = '';
  readonly #waiters = new Set<() => void>();

  /** `script` is relative to the repository root, which is also the child's working directory. */
  constructor(script: string, options: NodeChildOptions = {}) {
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...(options.args ?? [])], {
      cwd: ROOT,
      env: { ...inherited(options.dropEnv), NODE_OPTIONS: '', ...options.env },
      stdio: 'pipe',
    });
    this.child.stdin!.end(options.input ?? '');
    running.add(this);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop() ?? '';
      this.lines.push(...parts);
      this.#notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    let exitAt: number | undefined;
    this.child.once('exit', () => (exitAt = performance.now()));
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit'): stdout and stderr are fully read by then.
      this.child.once('close', (code, signal) => {
        if (this.#partial !== '') this.lines.push(this.#partial);
        this.#partial = '';
        this.exit = { code, signal, at: exitAt ?? performance.now() };
        running.delete(this);
        this.#notify();
        resolve(this.exit);
      });
    });
  }

  get alive(): boolean {
    return this.exit === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a real signal to the child; returns `performance.now()` at the send. */
  signal(signal: NodeJS.Signals): number {
    const at = performance.now();
    this.child.kill(signal);
    return at;
  }

  /** SIGKILL, if it still runs. */
  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }

  /** Lines tagged `tag` (`tag` alone or `tag <rest>`), the tag stripped. */
  tagged(tag: string): string[] {
    return this.lines.filter((line) => line === tag || line.startsWith(`${tag} `)).map((line) => line.slice(tag.length + 1));
  }

  /** The JSON of every line tagged `tag`. */
  taggedJson<T>(tag: string): T[] {
    return this.tagged(tag).map((rest) => JSON.parse(rest) as T);
  }

  /** The rest of the first line tagged `tag`, waiting for it; rejects if the child exits first. */
  waitFor(tag: string, timeoutMs = 15_000): Promise<string> {
    return this.#wait(() => this.tagged(tag)[0], tag, timeoutMs);
  }

  /** The JSON of the first line tagged `tag`, waiting for it. */
  async waitForJson<T>(tag: string, timeoutMs?: number): Promise<T> {
    return JSON.parse(await this.waitFor(tag, timeoutMs)) as T;
  }

  /** The match of the first line of stdout that matches `pattern`, waiting for it. */
  waitForLine(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return this.#wait(() => this.lines.map((line) => pattern.exec(line)).find((match) => match !== null) ?? undefined, String(pattern), timeoutMs);
  }

  /** Waits for the child to exit; rejects if it has not within `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ChildExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the child did not exit within ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  describe(): string {
    return `--- stdout ---\n${this.lines.slice(-50).join('\n')}\n--- stderr ---\n${this.stderr.slice(-4_000)}`;
  }

  #wait<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found !== undefined) return settle(() => resolve(found));
        if (this.exit) settle(() => reject(new Error(`the child exited (${JSON.stringify(this.exit)}) before printing ${what}\n${this.describe()}`)));
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`no ${what} within ${timeoutMs} ms\n${this.describe()}`))), timeoutMs);
      const settle = (done: () => void): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        done();
      };
      this.#waiters.add(check);
      check();
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

function inherited(drop: RegExp | undefined): NodeJS.ProcessEnv {
  return drop ? Object.fromEntries(Object.entries(process.env).filter(([name]) => !drop.test(name))) : process.env;
}

/** Starts `script` (relative to the repository root). */
export function startNode(script: string, options?: NodeChildOptions): NodeChild {
  return new NodeChild(script, options);
}

/** Kills (SIGKILL) every child still running and waits until each is gone. */
export async function stopAll(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill();
  await Promise.all(children.map((child) => child.exited));
}

/** Polls `predicate` every 10 ms until it holds; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!(await predicate())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ------------------------------------------------------------------------------------ the child's side

/** Prints `TAG <json>` (or `TAG` alone) on stdout synchronously, so nothing is lost when the process exits right after. */
export function emit(tag: string, data?: unknown): void {
  writeSync(1, data === undefined ? `${tag}\n` : `${tag} ${JSON.stringify(data)}\n`);
}

/** Reads the first JSON line from stdin (the parent's `input`). */
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
