/**
 * What `cancel-all` shows while it works: a cli-progress bar on stderr when stderr is a terminal, and
 * a plain line per finished ref on stdout when stdout is not one (text mode).
 * @module
 */
import cliProgress from 'cli-progress';
import type { TaskRef } from '../refs.js';
import type { CliContext } from './context.js';
import { errorLine } from './errors.js';
import { paintOutcome, showRef } from './format.js';

/** How one ref's cancel ended, as the progress sees it. */
export type RefOutcome = { readonly result: 'cancelled' | 'alreadyDone'; readonly status: string } | { readonly result: 'failed'; readonly error: unknown };

export class BulkProgress {
  readonly #context: CliContext;
  readonly #bar: cliProgress.SingleBar | undefined;
  readonly #plain: boolean;
  #failed = 0;

  constructor(context: CliContext, total: number) {
    this.#context = context;
    this.#plain = !context.json && context.io.stdout.isTTY !== true;
    if (context.io.stderr.isTTY === true) {
      const colors = context.colors('err');
      this.#bar = new cliProgress.SingleBar({
        stream: context.io.stderr as unknown as NodeJS.WritableStream,
        format: `cancelling ${colors.cyan('{bar}')} {value}/{total} · failed {failed} · {duration_formatted}`,
        barCompleteChar: '█',
        barIncompleteChar: '░',
        hideCursor: true,
        clearOnComplete: true,
        fps: 20,
      });
      this.#bar.start(total, 0, { failed: 0 });
    }
  }

  /** One ref is done. */
  done(ref: TaskRef, outcome: RefOutcome): void {
    if (outcome.result === 'failed') this.#failed++;
    this.#bar?.increment(1, { failed: this.#failed });
    if (!this.#plain) return;
    const colors = this.#context.colors('out');
    const label = outcome.result === 'failed' ? 'failed' : outcome.result === 'alreadyDone' ? 'already done' : 'cancelled';
    const paintAs = outcome.result === 'failed' ? 'failedCancel' : outcome.result === 'alreadyDone' ? 'alreadyDone' : 'completed';
    const detail = outcome.result === 'failed' ? errorLine(outcome.error, this.#context.env) : `status ${outcome.status}`;
    this.#context.print(`${paintOutcome(colors, paintAs, label.padEnd(12))} ${showRef(ref)}  ${detail}`);
  }

  /** Removes the bar (idempotent). */
  stop(): void {
    this.#bar?.stop();
  }
}
