export * from './classes.js';
export { GroupClosedError, type GroupCloseReason } from './group-closed.js';
export { errorFromResponse, type ErrorResponse } from './factory.js';
