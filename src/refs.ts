/**
 * A reference to one remote task: which API (`kind`) and its ID there.
 * `agent` refs hold a run ID, `cloud` refs a task ID; other kinds need a `TaskBackend`.
 */
export interface TaskRef {
  /** `'agent'`, `'cloud'` or the name of a custom backend. */
  readonly kind: TaskKind;
  /** The run ID (agent) or task ID (cloud). */
  readonly id: string;
}

/** The built-in kinds, or the name of a custom backend. */
export type TaskKind = 'agent' | 'cloud' | (string & {});

/** `agent:<id>` — the form used in logs, the CLI and map keys. */
export function refKey(ref: TaskRef): string {
  return `${ref.kind}:${ref.id}`;
}
