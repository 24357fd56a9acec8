/**
 * taskguard: every BLACKBOX agent run and cloud task your process starts is watched, ends by its
 * deadline, and is stopped when the process shuts down.
 * @module taskguard
 */
export { AgentClient } from './clients/agent.js';
export { CloudClient } from './clients/cloud.js';
export { CLIENT_DEFAULTS } from './clients/options.js';
export type { ClientOptions } from './clients/options.js';
export type { RequestOptions } from './clients/request-types.js';
export type * from './clients/open-string.js';
export type * from './clients/agent-types.js';
export type * from './clients/cloud-types.js';
export type * from './clients/agent-log-types.js';
export type * from './clients/cloud-log-types.js';
export {
  BlackboxError,
  ApiError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  RateLimitError,
  InternalServerError,
  InvalidResponseError,
  ConnectionError,
  RequestTimeoutError,
  ValidationError,
  TaskTimeoutError,
  ManagerClosedError,
  StoreError,
  errorFromResponse,
} from './errors/index.js';
export type { ApiErrorOptions, RequestInfo, ErrorResponse } from './errors/index.js';
export type { TaskRef, TaskKind } from './refs.js';
export type { BackoffPolicy } from './util/backoff.js';
export { TaskManager } from './manager/task-manager.js';
export { TaskGroup } from './manager/group.js';
export type { GroupOptions, GroupBudget, GroupOutcome, GroupCounts, GroupResult } from './manager/group-types.js';
export { GroupClosedError } from './errors/group-closed.js';
export type { GroupCloseReason } from './errors/group-closed.js';
export type { TrackOptions, WaitOptions, StartedTask, RecoverOptions, RecoveryReport, CancelManyOptions } from './manager/api-types.js';
export { MANAGER_DEFAULTS } from './manager/options.js';
export type { TaskManagerOptions, PollOptions, ShutdownOptions, TaskguardLogger, ReconcileOptions } from './manager/options.js';
export type { TaskManagerEvents, ReconciledEvent } from './manager/events.js';
export type { ManagerHealth, ManagerState, StoreState } from './manager/health.js';
export type { Clock } from './manager/clock.js';
export { normalizeAgentStatus, normalizeCloudStatus } from './manager/backends.js';
export { TERMINAL_STATES } from './manager/types.js';
export type {
  TaskState,
  NormalizedStatus,
  TaskBackend,
  BackendCallOptions,
  CreatedTask,
  TaskOutcome,
  TaskResult,
  TaskHandle,
  CancelReason,
  CancelValue,
  BulkCancelEntry,
  BulkCancelResult,
  ShutdownReport,
} from './manager/types.js';
export { MemoryStore } from './stores/memory.js';
export type { TaskStore, StoredTask, StoredIntent, StoredTaskPatch, FleetMessage } from './stores/types.js';
export { FileStore } from './stores/file.js';
export type { FileStoreOptions } from './stores/file.js';
export { RedisStore } from './stores/redis.js';
export type { RedisStoreOptions } from './stores/redis.js';
