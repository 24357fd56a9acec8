/**
 * The route table of both APIs and the matching of a request line against it. Matching works on the raw
 * path, split before any decoding, so an ID holding an encoded `/` (`a%2Fb`) stays one segment.
 * @module
 */
import { HttpError, type Reply } from './http.js';
import type { SimulatorRoute } from './ledger.js';
import type { StreamReply } from './streams.js';

/** Which API a route belongs to: it decides the accepted keys. */
export type Api = 'agent' | 'cloud';

/** What a handler is given. */
export interface RouteContext {
  /** The user the Bearer key belongs to. */
  readonly userId: string;
  /** The decoded ID of the path, `''` on collection routes. */
  readonly id: string;
  readonly query: URLSearchParams;
  /** The raw request body. */
  readonly body: string;
  /** The simulator clock when the handler runs, in epoch milliseconds. */
  readonly nowMs: number;
}

/** Answers one API call, or starts a stream. Synchronous: state changes are atomic with respect to other requests. */
export type Handler = (context: RouteContext) => Reply | StreamReply;

/** A request matched to an API call. */
export interface RouteMatch {
  readonly api: Api;
  readonly route: SimulatorRoute;
  /** The ID segment as sent, still percent-encoded; `''` on collection routes. */
  readonly rawId: string;
  readonly query: URLSearchParams;
}

type MethodTable = Readonly<Partial<Record<string, SimulatorRoute>>>;

/** Per API, the path after `tasks` (`''` the collection, `*` an ID, then its sub-paths) and its methods. */
const TABLE: Readonly<Record<Api, Readonly<Partial<Record<string, MethodTable>>>>> = {
  agent: {
    '': { GET: 'agent.list', POST: 'agent.create' },
    '*': { GET: 'agent.get', PATCH: 'agent.update' },
    '*/status': { GET: 'agent.status' },
    '*/continue': { POST: 'agent.continue' },
    '*/logs': { GET: 'agent.logs' },
    '*/logs/stream': { GET: 'agent.stream' },
  },
  cloud: {
    '': { GET: 'cloud.list', POST: 'cloud.create' },
    '*': { GET: 'cloud.get', PATCH: 'cloud.stop' },
    '*/status': { GET: 'cloud.status' },
    '*/continue': { POST: 'cloud.continue' },
    '*/stream': { GET: 'cloud.stream' },
  },
};

/** Matches a request; throws the 404 (no such path) or 405 (no such method) to answer otherwise. */
export function matchRoute(method: string, rawUrl: string): RouteMatch {
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));
  const segments = path.split('/');
  let api: Api;
  let rest: string[];
  if (segments[1] === 'api' && segments[2] === 'v1' && segments[3] === 'tasks') {
    api = 'agent';
    rest = segments.slice(4);
  } else if (segments[1] === 'api' && segments[2] === 'tasks') {
    api = 'cloud';
    rest = segments.slice(3);
  } else {
    throw new HttpError(404, 'Not found');
  }
  const [rawId = '', ...tail] = rest;
  const pattern = rest.length === 0 ? '' : ['*', ...tail].join('/');
  const methods = rest.length > 0 && rawId === '' ? undefined : TABLE[api][pattern];
  if (methods === undefined) throw new HttpError(404, 'Not found');
  const route = methods[method];
  if (route === undefined) throw new HttpError(405, 'Method not allowed', { allow: Object.keys(methods).join(', ') });
  return { api, route, rawId, query };
}

/** The percent-decoded ID; a malformed escape is a 400, not a crash. */
export function decodeId(rawId: string): string {
  try {
    return decodeURIComponent(rawId);
  } catch {
    throw new HttpError(400, 'Malformed task ID in path');
  }
}
