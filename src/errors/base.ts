/** Where an API error came from: never headers, never the key. */
export interface RequestInfo {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Path of the request, relative to the base URL, with its query. */
  readonly path: string;
}

/**
 * The root of every error taskguard throws or reports: `instanceof BlackboxError` tells them apart from
 * everything else (your own errors, a `TypeError` of a bad option, an abort reason).
 *
 * @example
 * ```ts
 * import { AgentClient, BlackboxError } from 'taskguard';
 *
 * try {
 *   await new AgentClient().listTasks({ limit: 10 });
 * } catch (error) {
 *   if (!(error instanceof BlackboxError)) throw error;
 *   console.error(`${error.name}: ${error.message}`); // never contains the API key
 * }
 * ```
 */
export class BlackboxError extends Error {
  /** Always `'BlackboxError'`: the class name, as stack traces and logs show it. */
  override name = 'BlackboxError';
  /**
   * True on the error of a create or continue (POST) that failed after its request may have reached
   * the server (a reset after sending, a timeout, a 5xx, a proxy's HTML page): the task may exist.
   * Such a request is never retried blindly; `TaskManager.start()` looks the task up instead.
   */
  mayHaveBeenApplied = false;
}
