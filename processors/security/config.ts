import { durationSchema } from '../../src/util/duration';
import type { RateLimitRule } from './state/ratelimit';

export interface SecurityConfig {
  sqli: { enabled: boolean; threshold: number };
  xss: { enabled: boolean; threshold: number };
  /** Span attributes holding request data; a trailing ".*" matches a prefix (request headers). */
  request_attributes: string[];
  /** Span attributes holding query text of database calls. */
  statement_attributes: string[];
  /** Log attributes whose values are inspected for injections too (e.g. a logged query string). */
  log_attributes: string[];
  max_value_length: number;
  user_attributes: string[];
  client_address_attributes: string[];
  brute_force: { enabled: boolean; max_failures: number; window: string | number; block_duration: string | number; stuffing_users: number; clock_skew: string | number; blocked_report_interval: string | number };
  rate_limit: { enabled: boolean; rules: RateLimitRule[] };
  profile: { enabled: boolean; min_observations: number; threshold: number; max_users: number; max_items_per_user: number };
  threat_intel: { files: string[]; include_private: boolean; reload_interval: string | number; score: number };
  max_tracked: number;
  max_recent: number;
  recent_window: string | number;
  persist: boolean;
  persist_interval: string | number;
  crs: CrsConfig;
}

export interface CrsConfig {
  enabled: boolean;
  /** Rule files or directories; empty: Debian's CRS at DEFAULT_CRS_PATH when installed. */
  rules: string[];
  paranoia_level: number;
  anomaly_threshold: number;
}

/** Where Debian's modsecurity-crs package installs the CRS 3.3 rules. */
export const DEFAULT_CRS_PATH = '/usr/share/modsecurity-crs/rules';

const bool = (d: boolean) => ({ type: 'boolean', default: d });
const num = (d: number, extra: Record<string, unknown> = {}) => ({ type: 'number', default: d, ...extra });
const strings = (d: string[]) => ({ type: 'array', items: { type: 'string' }, default: d });

export const securityConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sqli: { type: 'object', additionalProperties: false, default: {}, properties: { enabled: bool(true), threshold: num(0.5, { minimum: 0, maximum: 1 }) } },
    xss: { type: 'object', additionalProperties: false, default: {}, properties: { enabled: bool(true), threshold: num(0.5, { minimum: 0, maximum: 1 }) } },
    request_attributes: strings(['url.query', 'url.path', 'url.full', 'http.target', 'http.request.body', 'http.request.body.content', 'user_agent.original', 'http.request.header.*', 'url.fragment']),
    statement_attributes: strings(['db.query.text', 'db.statement']),
    log_attributes: strings(['url.query', 'url.path', 'http.request.body']),
    max_value_length: num(16384, { minimum: 16 }),
    user_attributes: strings(['enduser.id', 'user.id', 'user.name', 'enduser.name']),
    client_address_attributes: strings(['client.address', 'source.address', 'http.client_ip', 'net.sock.peer.addr']),
    brute_force: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: bool(true), max_failures: num(5, { minimum: 1 }), window: durationSchema('10m'), block_duration: durationSchema('10m'),
        stuffing_users: num(5, { minimum: 2 }),
        // How far back a failure's own timestamp is believed; windows and bans run on receive time.
        clock_skew: durationSchema('1m'),
        // While an IP is blocked, one blocked_source event per interval (with the count), not one per request.
        blocked_report_interval: durationSchema('1m'),
      },
    },
    rate_limit: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: bool(false),
        rules: {
          type: 'array', default: [{ per: 'user', rate: 20, burst: 100 }, { per: 'endpoint', rate: 500, burst: 2000 }],
          items: {
            type: 'object', additionalProperties: false, required: ['per', 'rate', 'burst'],
            properties: { per: { enum: ['user', 'ip', 'endpoint', 'user_endpoint'] }, rate: { type: 'number', exclusiveMinimum: 0 }, burst: { type: 'number', minimum: 1 } },
          },
        },
      },
    },
    profile: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        enabled: bool(true), min_observations: num(50, { minimum: 1 }), threshold: num(0.6, { minimum: 0, maximum: 1 }),
        max_users: num(10000, { minimum: 1 }), max_items_per_user: num(64, { minimum: 1 }),
      },
    },
    threat_intel: {
      type: 'object', additionalProperties: false, default: {},
      properties: { files: strings([]), include_private: bool(false), reload_interval: durationSchema('30s'), score: num(0.7, { minimum: 0, maximum: 1 }) },
    },
    max_tracked: num(100000, { minimum: 1 }),
    max_recent: num(10000, { minimum: 1 }),
    recent_window: durationSchema('15m'),
    persist: bool(true),
    persist_interval: durationSchema('30s'),
    crs: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        // Off by default: with it the ingest bench keeps about a quarter of passthrough's throughput (README, Cost in the pipeline).
        enabled: bool(false),
        rules: strings([]),
        paranoia_level: num(1, { minimum: 1, maximum: 4 }),
        anomaly_threshold: num(5, { minimum: 1 }),
      },
    },
  },
} as const;
