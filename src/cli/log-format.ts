/**
 * Log events as lines for a human: an agent run's events (`text-delta`, `tool-call-start`, …, `finish`)
 * and a cloud task's named events (`log`, `status`, `complete`, `error`). Text deltas are joined and
 * printed a whole line at a time, so the agent's words read as text and a live line can be redrawn
 * between them.
 * @module
 */
import type { Palette } from './format.js';

/** Longest JSON shown for a tool's input or output before it is cut. */
const MAX_JSON = 200;

export class LogPrinter {
  readonly #out: (line: string) => void;
  readonly #colors: Palette;
  #text = '';
  #textId: unknown;

  constructor(out: (line: string) => void, colors: Palette) {
    this.#out = out;
    this.#colors = colors;
  }

  /** One event of an agent run's logs or log stream (the parsed `data` object). */
  agent(event: unknown): void {
    const data = record(event);
    const type = typeof data['type'] === 'string' ? data['type'] : 'event';
    if (type === 'text-delta') {
      this.#textDelta(data['id'], typeof data['delta'] === 'string' ? data['delta'] : '');
      return;
    }
    this.flush();
    const { dim, red, cyan } = this.#colors;
    switch (type) {
      case 'text-start':
      case 'text-end':
        return;
      case 'session-init':
        return this.#out(dim('· session started'));
      case 'tool-call-start':
        return this.#out(cyan(`→ ${String(data['toolName'] ?? 'tool')}`));
      case 'tool-input-available':
        return this.#out(dim(`  input ${short(data['input'])}`));
      case 'tool-output-available':
        return this.#out(dim(`  output ${short(data['output'])}`));
      case 'files':
        return this.#out(dim(`· files: ${Array.isArray(data['files']) ? data['files'].map(fileName).join(', ') : short(data['files'])}`));
      case 'result':
        return this.#out(dim(`· result: ${typeof data['result'] === 'string' ? data['result'] : short(data['result'] ?? data)}`));
      case 'error':
        return this.#out(red(`✗ error: ${message(data['error'] ?? data['errorText'] ?? data['message'] ?? data)}`));
      case 'finish':
        return this.#out(dim(`· finish: ${String(data['status'] ?? 'unknown')}`));
      default: {
        const { type: _type, ...rest } = data;
        return this.#out(dim(`· ${type}${Object.keys(rest).length > 0 ? ` ${short(rest)}` : ''}`));
      }
    }
  }

  /** One named event of a cloud task's stream. */
  cloud(event: string, payload: unknown): void {
    this.flush();
    const data = record(payload);
    const { dim, red, yellow, green } = this.#colors;
    switch (event) {
      case 'connected':
        return;
      case 'log': {
        const log = record(data['log']);
        const type = typeof log['type'] === 'string' ? log['type'] : 'info';
        const paint = type === 'error' ? red : type === 'warning' ? yellow : type === 'success' ? green : (text: string) => text;
        return this.#out(`${paint(`[${type}]`)} ${message(log['message'] ?? '')}`);
      }
      case 'status':
        return this.#out(dim(`· status ${String(data['status'] ?? 'unknown')}${typeof data['error'] === 'string' ? ` (${data['error']})` : ''}`));
      case 'complete':
        return this.#out(dim(`· complete: ${String(data['status'] ?? 'unknown')}${typeof data['totalLogs'] === 'number' ? ` (${data['totalLogs']} logs)` : ''}`));
      case 'error':
        return this.#out(red(`✗ error: ${message(data['error'] ?? data)}${typeof data['details'] === 'string' ? ` (${data['details']})` : ''}`));
      default:
        return this.#out(dim(`· ${event} ${short(payload)}`));
    }
  }

  /** Prints the text not yet ended by a newline. */
  flush(): void {
    if (this.#text !== '') this.#out(this.#text);
    this.#text = '';
  }

  #textDelta(id: unknown, delta: string): void {
    if (id !== this.#textId) this.flush();
    this.#textId = id;
    const lines = (this.#text + delta).split('\n');
    this.#text = lines.pop() ?? '';
    for (const line of lines) this.#out(line);
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function short(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > MAX_JSON ? `${json.slice(0, MAX_JSON - 1)}…` : json;
}

function message(value: unknown): string {
  if (typeof value === 'string') return value;
  const data = record(value);
  return typeof data['message'] === 'string' ? data['message'] : short(value);
}

function fileName(file: unknown): string {
  if (typeof file === 'string') return file;
  const data = record(file);
  const name = data['path'] ?? data['name'];
  return typeof name === 'string' ? name : short(file);
}
