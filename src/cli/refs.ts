/**
 * Refs on the command line and on stdin: `agent:<runId>`, `cloud:<taskId>`, or a bare ID, which is an
 * agent run. Every ref is checked before any request is sent.
 * @module
 */
import { pathId } from '../clients/validate.js';
import { ValidationError } from '../errors/classes.js';
import { refKey, type TaskRef } from '../refs.js';
import { UsageError } from './errors.js';

const PREFIXED = /^([A-Za-z][\w-]*):(.*)$/s;

/** Parses one ref. `where` (such as `stdin line 3`) prefixes the error. */
export function parseRef(text: string, where?: string): TaskRef {
  const at = where === undefined ? '' : `${where}: `;
  const value = text.trim();
  const match = PREFIXED.exec(value);
  let kind = 'agent';
  let id = value;
  if (match) {
    kind = (match[1] ?? '').toLowerCase();
    id = match[2] ?? '';
    if (kind !== 'agent' && kind !== 'cloud') {
      throw new UsageError(`${at}unknown kind "${match[1]}" in "${value}": use agent:<runId>, cloud:<taskId> or a bare run ID`);
    }
  }
  if (/\s/.test(id)) throw new UsageError(`${at}"${value}" is not one ref: an ID has no spaces (one ref per line)`);
  try {
    pathId(id, `${kind} ID`);
  } catch (error) {
    if (error instanceof ValidationError) throw new UsageError(`${at}${error.message} (in "${value}")`);
    throw error;
  }
  return { kind, id };
}

/** Refs from text, one per line; blank lines and `#` comments (whole-line or trailing) are skipped. */
export function parseRefLines(text: string): TaskRef[] {
  const refs: TaskRef[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line !== '') refs.push(parseRef(line, `stdin line ${index + 1}`));
  });
  return refs;
}

/** The refs without repeats (first occurrence kept), and how many repeats were dropped. */
export function uniqueRefs(refs: readonly TaskRef[]): { readonly refs: TaskRef[]; readonly duplicates: number } {
  const seen = new Map<string, TaskRef>();
  for (const ref of refs) if (!seen.has(refKey(ref))) seen.set(refKey(ref), ref);
  return { refs: [...seen.values()], duplicates: refs.length - seen.size };
}

/** A run ID for `cancel`/`rename`: bare or `agent:<id>`; a cloud ref is refused with a pointer to `stop`. */
export function agentRunId(text: string): string {
  const ref = parseRef(text);
  if (ref.kind !== 'agent') throw new UsageError(`"${text.trim()}" is a cloud task: stop it with \`taskguard stop ${ref.id}\``);
  return ref.id;
}

/** A task ID for `stop`: bare or `cloud:<id>`; an agent ref is refused with a pointer to `cancel`. */
export function cloudTaskId(text: string): string {
  const value = text.trim();
  const ref = parseRef(PREFIXED.test(value) ? value : `cloud:${value}`);
  if (ref.kind !== 'cloud') throw new UsageError(`"${value}" is an agent run: cancel it with \`taskguard cancel ${ref.id}\``);
  return ref.id;
}
