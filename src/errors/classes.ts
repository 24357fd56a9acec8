/**
 * The error hierarchy, one file per family: the root (`base.ts`), the API's answers (`api.ts`), the
 * transport (`transport.ts`) and what taskguard refuses or ends itself (`local.ts`). Guide: docs/errors.md.
 * @module
 */
export * from './base.js';
export * from './api.js';
export * from './transport.js';
export * from './local.js';
