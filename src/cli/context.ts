/**
 * What a command runs against: the injectable streams and environment, the output mode, and the
 * helpers that write results and errors. Tests build one with fake streams; `index.ts` with `process`.
 * @module
 */
import { colorAllowed, type Env } from './env.js';
import { errorDocument, errorLine, exitCodeOf } from './errors.js';
import { palette, type Palette } from './format.js';

/** A stream the CLI writes to; `isTTY` and `columns` are read when present. */
export interface OutputStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** Where signals come from (`process` by default): `watch` and `simulate` listen for SIGINT/SIGTERM. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/** Everything the CLI touches of its process, injectable so the program can be tested in-process. */
export interface CliIO {
  /** The arguments after the program name (`process.argv.slice(2)`). */
  readonly argv: readonly string[];
  /** The environment (`process.env`); keys are read from here only. */
  readonly env: Env;
  /** Where `cancel-all` reads refs from when it is given none. */
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** @default process */
  readonly signals?: SignalSource | undefined;
}

/** The state of one CLI invocation. */
export class CliContext {
  readonly io: CliIO;
  /** `--json`: one JSON document on stdout, errors as JSON too. */
  json: boolean;
  /** What the invocation exits with unless an error ends it. */
  exitCode = 0;

  constructor(io: CliIO) {
    this.io = io;
    this.json = wantsJson(io.argv);
  }

  get env(): Env {
    return this.io.env;
  }

  get signals(): SignalSource {
    return this.io.signals ?? process;
  }

  /** Colours for stdout (`out`) and stderr (`err`); plain functions when colour is not allowed. */
  colors(stream: 'out' | 'err'): Palette {
    return palette(colorAllowed(stream === 'out' ? this.io.stdout : this.io.stderr, this.env));
  }

  /** A line of human output on stdout. */
  print(line = ''): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** A line on stderr. */
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** The one JSON document of a `--json` run. */
  printJson(document: unknown): void {
    this.io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  }

  /** Reports `error` (one line on stderr; with `--json` also a JSON document on stdout) and returns its exit code. */
  fail(error: unknown): number {
    const code = exitCodeOf(error);
    if (code === 0) return 0;
    const message = errorLine(error, this.env);
    if (this.json) this.printJson(errorDocument(error, this.env, message));
    this.note(`${this.colors('err').red('taskguard:')} ${message}`);
    return code;
  }
}

/** Whether `--json` appears among the options (before a `--`). */
function wantsJson(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--json') return true;
  }
  return false;
}
