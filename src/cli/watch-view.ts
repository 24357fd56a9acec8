/**
 * What `watch` shows while it waits: a live status line on stderr when stderr is a terminal, a plain
 * line per status change on stdout when stdout is not one (text mode), and the final result.
 * @module
 */
import type { NormalizedStatus, TaskResult } from '../manager/types.js';
import type { TaskRef } from '../refs.js';
import type { CliContext } from './context.js';
import { formatDuration } from './durations.js';
import { redact } from './errors.js';
import { paintOutcome, showRef } from './format.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class WatchView {
  readonly #context: CliContext;
  readonly #ref: TaskRef;
  readonly #deadline: number | undefined;
  readonly #started = Date.now();
  readonly #live: boolean;
  readonly #plain: boolean;
  #status: NormalizedStatus | undefined;
  #note = '';
  #frame = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #finished = false;

  constructor(context: CliContext, ref: TaskRef, deadline: number | undefined) {
    this.#context = context;
    this.#ref = ref;
    this.#deadline = deadline;
    this.#live = context.io.stderr.isTTY === true;
    this.#plain = !context.json && context.io.stdout.isTTY !== true;
    const until = deadline === undefined ? 'no deadline' : `cancelling it at its deadline in ${formatDuration(deadline - this.#started)}`;
    this.event(`watching ${showRef(ref)} (${until})`);
    if (this.#live) {
      this.#ticker = setInterval(() => this.#redraw(), 120);
      this.#redraw();
    }
  }

  /** Milliseconds since the watch began. */
  get elapsedMs(): number {
    return Date.now() - this.#started;
  }

  /** A new status from a poll (or a cancel's answer). */
  status(status: NormalizedStatus): void {
    this.#status = status;
    if (this.#plain) this.#context.print(`[+${formatDuration(this.elapsedMs)}] ${showRef(this.#ref)} ${status.raw} (${status.state})`);
    this.#redraw();
  }

  /** Something that happened (deadline passed, a poll failed, Ctrl-C). */
  event(text: string): void {
    if (this.#plain) this.#context.print(`[+${formatDuration(this.elapsedMs)}] ${text}`);
    if (this.#live) {
      this.#note = text;
      this.#redraw();
    }
  }

  /**
   * A line that is not about the status, such as a log event of `run --logs`: on stdout, or on stderr
   * with `--json` (stdout holds the one document), above the live line.
   */
  line(text: string): void {
    const live = this.#live && !this.#finished;
    if (live) this.#context.io.stderr.write('\r\x1b[2K');
    if (this.#context.json) this.#context.note(text);
    else this.#context.print(text);
    if (live) this.#redraw();
  }

  /** Clears the live line and prints the result (text mode). */
  finish(result: TaskResult | undefined, exitCode: number, detail: string): void {
    this.stop();
    const elapsed = this.elapsedMs;
    if (this.#context.json) {
      this.#context.printJson({
        ref: showRef(this.#ref),
        kind: this.#ref.kind,
        id: this.#ref.id,
        outcome: result?.outcome ?? null,
        status: result?.status ?? this.#status?.raw ?? null,
        exitCode,
        elapsedMs: elapsed,
        deadline: this.#deadline === undefined ? null : new Date(this.#deadline).toISOString(),
        ...(detail !== '' && { detail }),
        ...(result?.error !== undefined && { error: { name: result.error.name, message: redact(result.error.message, this.#context.env) } }),
      });
      return;
    }
    const colors = this.#context.colors('out');
    const outcome = result === undefined ? colors.red('not finished') : paintOutcome(colors, result.outcome, result.outcome.replace('_', ' '));
    const status = result?.status ?? this.#status?.raw;
    const tail = [status === undefined || status === null ? undefined : `status ${status}`, detail || undefined].filter((part) => part !== undefined);
    this.#context.print(`${showRef(this.#ref)} ${outcome} after ${formatDuration(elapsed)}${tail.length > 0 ? ` (${tail.join('; ')})` : ''}`);
  }

  #redraw(): void {
    if (!this.#live || this.#finished) return;
    const colors = this.#context.colors('err');
    const frame = SPINNER[this.#frame++ % SPINNER.length] ?? '-';
    const status = this.#status ? [`${this.#status.raw} (${this.#status.state})`, colors.bold] as const : ['waiting for the first status', colors.dim] as const;
    // Each part as [plain text, paint]; parts are dropped from the end until the line fits the terminal,
    // since a wrapped line could not be redrawn in place.
    const parts: (readonly [string, (text: string) => string])[] = [
      [frame, colors.cyan],
      [showRef(this.#ref), (text) => text],
      status,
      [formatDuration(this.elapsedMs), (text) => text],
    ];
    if (this.#deadline !== undefined) parts.push([`deadline in ${formatDuration(Math.max(0, this.#deadline - Date.now()))}`, (text) => text]);
    if (this.#note !== '') parts.push([this.#note, colors.dim]);
    const columns = this.#context.io.stderr.columns;
    const width = (columns !== undefined && columns > 0 ? columns : 80) - 1;
    while (parts.length > 2 && parts.reduce((sum, [text]) => sum + text.length + 2, -2) > width) parts.pop();
    this.#context.io.stderr.write(`\r\x1b[2K${parts.map(([text, paint]) => paint(text)).join('  ')}`);
  }

  /** Stops the live line (idempotent). */
  stop(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    if (this.#live) this.#context.io.stderr.write('\r\x1b[2K');
  }
}
