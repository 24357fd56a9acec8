export * from './classes.js';
export { errorFromResponse, type ErrorResponse } from './factory.js';
