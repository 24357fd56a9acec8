import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ApiError,
  AuthenticationError,
  BadRequestError,
  BlackboxError,
  ConnectionError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RequestTimeoutError,
  ValidationError,
  errorFromResponse,
} from '../src/index.js';

const base = { method: 'PATCH', path: '/api/tasks/abc' };

describe('errorFromResponse', () => {
  it.each([
    [400, BadRequestError],
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [429, RateLimitError],
    [500, InternalServerError],
    [502, InternalServerError],
    [503, InternalServerError],
    [418, ApiError],
  ])('maps status %i to its class, all under BlackboxError', (status, cls) => {
    const error = errorFromResponse({ ...base, status, bodyText: '{"error":"nope"}' });
    expect(error).toBeInstanceOf(cls);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(BlackboxError);
    expect(error.name).toBe(cls.name);
    expect(error.status).toBe(status);
    expect(error.method).toBe('PATCH');
    expect(error.path).toBe('/api/tasks/abc');
  });

  it('reads {error: string}, {error: {code, message}} and {message} bodies', () => {
    expect(errorFromResponse({ ...base, status: 400, bodyText: '{"error":"Task is not in progress"}' }).message).toBe(
      '400 PATCH /api/tasks/abc: Task is not in progress',
    );
    const nested = errorFromResponse({ ...base, status: 400, bodyText: '{"error":{"code":"bad_action","message":"No valid action"}}' });
    expect(nested.message).toBe('400 PATCH /api/tasks/abc: No valid action (bad_action)');
    expect(nested.body).toEqual({ error: { code: 'bad_action', message: 'No valid action' } });
    expect(errorFromResponse({ ...base, status: 500, bodyText: '{"message":"boom"}' }).message).toMatch(/boom$/);
  });

  it('reads an HTML 502 page as text and names its title', () => {
    const html = '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';
    const error = errorFromResponse({ ...base, status: 502, bodyText: html, contentType: 'text/html' });
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error.body).toBe(html);
    expect(error.message).toBe('502 PATCH /api/tasks/abc: HTML page "502 Bad Gateway"');
  });

  it('copes with empty, truncated and huge bodies', () => {
    expect(errorFromResponse({ ...base, status: 500, bodyText: '' }).message).toBe('500 PATCH /api/tasks/abc');
    expect(errorFromResponse({ ...base, status: 500, bodyText: '{"error":"trunc' }).body).toBe('{"error":"trunc');
    expect(errorFromResponse({ ...base, status: 500, bodyText: 'x'.repeat(100_000) }).message.length).toBeLessThan(400);
  });

  it('keeps the Retry-After hint of a 429', () => {
    const error = errorFromResponse({ ...base, status: 429, bodyText: '{}', retryAfterMs: 2_000 });
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(2_000);
  });
});

describe('the shape of the hierarchy', () => {
  it('makes a timeout a kind of connection failure', () => {
    const timeout = new RequestTimeoutError({ method: 'GET', path: '/api/tasks/x/status', timeoutMs: 5 });
    expect(timeout).toBeInstanceOf(ConnectionError);
    expect(timeout).toBeInstanceOf(BlackboxError);
    expect(timeout.message).toBe('Request timed out after 5 ms: GET /api/tasks/x/status');
    expect(timeout.name).toBe('RequestTimeoutError');
  });

  it('gives each leaf class a literal name, so error.name narrows', () => {
    const notFound = new NotFoundError(404, '404', { body: {}, method: 'GET', path: '/x' });
    expectTypeOf(notFound.name).toEqualTypeOf<'NotFoundError'>();
    expectTypeOf(new ValidationError('bad').name).toEqualTypeOf<'ValidationError'>();
    const either = notFound as NotFoundError | ValidationError;
    if (either.name === 'NotFoundError') expectTypeOf(either).toEqualTypeOf<NotFoundError>();
    expect(notFound.name).toBe('NotFoundError');
  });
});
