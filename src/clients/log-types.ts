/**
 * The old home of both APIs' log types, now in `agent-log-types.ts` and `cloud-log-types.ts`. It
 * re-exports the names `src/manager` still imports from here, so that the manager keeps compiling while
 * it is being edited; once those imports point at the new modules, this file goes.
 * @module
 */
export type { AgentLogEvent } from './agent-log-types.js';
export type { CloudStreamEvent } from './cloud-log-types.js';
