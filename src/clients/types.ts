/**
 * The old home of both APIs' wire types, now in `agent-types.ts` and `cloud-types.ts`. It re-exports the
 * names `src/manager` still imports from here, so that the manager keeps compiling while it is being
 * edited; once those imports point at the new modules, this file goes.
 * @module
 */
export type { AgentCreateTaskBody, AgentCreateTaskResponse, AgentStatusResponse } from './agent-types.js';
export type { CloudCreateTaskBody, CloudStatusResponse, CloudTaskResponse } from './cloud-types.js';
