/**
 * Telemetry of API requests: a count, a duration and a CLIENT span per attempt.
 * @module
 */
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { ATTR, errorType, instruments, tracer } from './instruments.js';

/** What a client's request does, as `taskguard.operation` and the span name (`taskguard.<operation>`) say it. */
export type ApiOperation = 'create' | 'status' | 'cancel' | 'list' | 'get' | 'logs' | 'stream' | 'continue' | 'rename';

/** How one attempt ended: the HTTP status when there was an answer, and the error when it failed. */
export interface RequestOutcome {
  readonly status?: number | undefined;
  /** Present (even if `undefined` was thrown) exactly when the attempt failed. */
  readonly error?: unknown;
}

/** The request hooks of one client. */
export interface RequestTelemetry {
  /** Starts one attempt of `operation`; call the returned function once, when the attempt ends. */
  start(operation: ApiOperation): (outcome: RequestOutcome) => void;
}

/**
 * Hooks for the requests of one client of `kind`. The meter and the tracer are taken here, when the
 * client is made. Attributes hold the kind, the operation, the status and the error's class name: never
 * the key, a prompt, a URL or an error message (a server may echo the request in its error body).
 */
export function createRequestTelemetry(kind: string): RequestTelemetry {
  const { apiRequests, apiRequestDuration } = instruments();
  const spans = tracer();
  return {
    start(operation) {
      const startedAt = performance.now();
      const attributes: Attributes = { [ATTR.kind]: kind, [ATTR.operation]: operation };
      const span = spans.startSpan(`taskguard.${operation}`, { kind: SpanKind.CLIENT, attributes });
      return (outcome) => {
        const ended: Attributes = { ...attributes };
        if (outcome.status !== undefined) ended[ATTR.httpStatus] = outcome.status;
        const failed = 'error' in outcome;
        if (failed) ended[ATTR.errorType] = errorType(outcome.error);
        apiRequests.add(1, ended);
        apiRequestDuration.record((performance.now() - startedAt) / 1000, ended);
        if (span.isRecording()) {
          span.setAttributes(ended);
          if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: ended[ATTR.errorType] as string });
        }
        span.end();
      };
    },
  };
}
