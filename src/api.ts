/**
 * The interface of Vigil's own HTTP API (the `api` extension, 127.0.0.1:8686 by default).
 * Features add their routes at start: `host.getExtension<ApiServer>(API_EXTENSION)?.route(...)`.
 * Handlers return a JSON-able value (200) or an ApiResponse; throwing ApiError answers with its
 * status and `{ "error": message }`.
 */
export const API_EXTENSION = 'api';

export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Values of `:name` segments of the route pattern. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
  /** Who is calling (null: anonymous or auth off) and their role (see extensions/api/roles.ts). */
  principal?: string | null;
  role?: 'viewer' | 'operator' | 'admin' | null;
}

/** `role`: what a caller needs (default: GET viewer, other methods operator; `anonymous`: no credentials). */
export interface RouteOptions {
  role?: 'viewer' | 'operator' | 'admin' | 'anonymous';
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw text or bytes body instead of JSON (dashboards, metrics). */
  raw?: string | Uint8Array;
  /**
   * A long-lived text response (Server-Sent Events): called once the headers are sent with a writer;
   * returns the cleanup run when the client goes away or the server stops.
   */
  stream?: (write: (text: string) => boolean) => () => void;
}

export type ApiHandler = (req: ApiRequest) => unknown | ApiResponse | Promise<unknown | ApiResponse>;

export interface ApiServer {
  /** Pattern like "/api/alerts/:fingerprint/ack". Later registrations of the same route replace earlier ones. */
  route(method: 'GET' | 'POST' | 'PUT' | 'DELETE', pattern: string, handler: ApiHandler, options?: RouteOptions): void;
}

/**
 * What to say for a path no route serves because a feature is not configured: a feature's module
 * adds `{ path: /^\/api\/alerts/, hint: 'how to turn it on' }` when it loads, and the API answers
 * 404 with the hint instead of a bare "no API route".
 */
export const notConfiguredHints: Array<{ path: RegExp; hint: string }> = [];

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function isApiResponse(v: unknown): v is ApiResponse {
  return typeof v === 'object' && v !== null && typeof (v as ApiResponse).status === 'number' && ('body' in v || 'raw' in v || 'stream' in v);
}
