import { ValidationError } from '../errors/classes.js';

/** Longest ID accepted: real IDs are 21–36 characters, so anything near this is a bug upstream. */
export const MAX_ID_LENGTH = 256;

/**
 * Checks an ID and returns it percent-encoded for a path segment. Refuses what could not name a task or
 * would be read as a path: empty or blank, surrounding whitespace, `.`/`..`, lone surrogates, too long.
 */
export function pathId(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new ValidationError(`${name} must be a string, got ${typeof value}`);
  if (value.trim() === '') throw new ValidationError(`${name} must not be empty or blank`);
  if (value.trim() !== value) throw new ValidationError(`${name} must not start or end with whitespace`);
  if (value.length > MAX_ID_LENGTH) throw new ValidationError(`${name} is ${value.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  if (value === '.' || value === '..') throw new ValidationError(`${name} must not be "${value}"`);
  if (!value.isWellFormed()) throw new ValidationError(`${name} contains a lone surrogate (not valid Unicode)`);
  return encodeURIComponent(value);
}

/** A title of 1–200 characters, as the Agent API requires. */
export function checkTitle(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError(`title must be a string, got ${typeof value}`);
  if (value.length < 1 || value.length > 200) throw new ValidationError(`title must be 1–200 characters, got ${value.length}`);
  return value;
}

/** A non-empty string field of a request body. */
export function requiredText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(`${name} is required and must be a non-empty string`);
  return value;
}

/** An object argument (a request body). */
export function checkBody<T>(value: T, name: string): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`${name} must be an object`);
  return value;
}

/** An integer query parameter within bounds, or undefined. */
export function intParam(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${name} must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, got ${String(value)}`);
  }
  return value;
}

/** An optional boolean query parameter, as the API spells it (`true`/`false`), or undefined. */
export function boolParam(value: unknown, name: string): 'true' | 'false' | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ValidationError(`${name} must be a boolean, got ${typeof value}`);
  return value ? 'true' : 'false';
}
