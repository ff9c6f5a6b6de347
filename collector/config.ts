// The collector's one config object: read once at start, validated against SCHEMA (unknown keys are
// rejected, naming the key), defaults filled in, relative paths resolved against the config file's
// folder, then deep-frozen. Option names carry their unit (_bytes, _secs). main.ts hands each module
// its slice. docs/collector.md documents every key.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CollectorError, CollectorErrorCode } from './errors';

export interface ListenConfig {
  readonly host: string;
  readonly port: number;
}
export interface StoreConfig {
  /** absolute after loading (or ':memory:') */
  readonly sqlite_path: string;
  /** SQLite synchronous mode; 'full' fsyncs the WAL at every commit, so an ack survives power loss */
  readonly synchronous: 'full' | 'normal';
}
export interface AgentCredential {
  readonly agent_id: string;
  readonly token_sha256: string;
}
export interface SubscriberCredential {
  readonly name: string;
  readonly token_sha256: string;
}
export interface AuthConfig {
  readonly agents: readonly AgentCredential[];
  readonly subscribers: readonly SubscriberCredential[];
}
export interface LimitsConfig {
  readonly max_frame_bytes: number;
  readonly max_flows_per_batch: number;
  readonly max_connections_per_ip: number;
  readonly ping_interval_secs: number;
  readonly max_clock_skew_secs: number;
}
export interface HealthConfig {
  readonly silent_after_missed_heartbeats: number;
}
export interface AlertsConfig {
  readonly max_buffered_bytes_per_subscriber: number;
  readonly max_replay_alerts: number;
}
export interface PortScanConfig {
  readonly enabled: boolean;
  readonly min_ports: number;
  readonly window_secs: number;
  readonly suppress_secs: number;
  readonly max_tracked_pairs: number;
}
export interface DetectConfig {
  readonly port_scan: PortScanConfig;
}
export interface CollectorConfig {
  readonly collector_id: string;
  readonly listen: ListenConfig;
  readonly store: StoreConfig;
  readonly auth: AuthConfig;
  readonly limits: LimitsConfig;
  readonly health: HealthConfig;
  readonly alerts: AlertsConfig;
  readonly detect: DetectConfig;
}

// ---- schema -------------------------------------------------------------------------------------

type Spec =
  | { t: 'int'; min: number; max: number; def?: number }
  | { t: 'bool'; def?: boolean }
  | { t: 'string'; def?: string; maxLen?: number; pattern?: RegExp; patternHelp?: string; oneOf?: readonly string[] }
  | { t: 'object'; fields: Record<string, Spec>; required?: boolean }
  | { t: 'array'; of: Spec; def?: readonly unknown[] };

const MiB = 1024 * 1024;
const SHA256_HEX = { t: 'string', pattern: /^[0-9a-fA-F]{64}$/, patternHelp: '64 hex digits (sha256 of the token; see `hash-token`)' } as const;
const NAME = { t: 'string', maxLen: 128, pattern: /^[^\x00-\x1f\x7f]+$/, patternHelp: 'a non-empty name without control characters' } as const;

const SCHEMA: Spec = {
  t: 'object',
  fields: {
    collector_id: { t: 'string', def: os.hostname(), maxLen: 128 },
    listen: {
      t: 'object',
      fields: {
        host: { t: 'string', def: '127.0.0.1', pattern: /^\S+$/, patternHelp: 'a host name or address' },
        port: { t: 'int', min: 0, max: 65535, def: 7470 },
      },
    },
    store: {
      t: 'object',
      fields: {
        sqlite_path: { t: 'string', def: 'goalkeeper.sqlite', pattern: /\S/, patternHelp: 'a file path' },
        synchronous: { t: 'string', def: 'full', oneOf: ['full', 'normal'] },
      },
    },
    auth: {
      t: 'object',
      required: true,
      fields: {
        agents: { t: 'array', of: { t: 'object', required: true, fields: { agent_id: NAME, token_sha256: SHA256_HEX } } },
        subscribers: { t: 'array', def: [], of: { t: 'object', required: true, fields: { name: NAME, token_sha256: SHA256_HEX } } },
      },
    },
    limits: {
      t: 'object',
      fields: {
        // Welcome.max_frame_bytes is a uint32; 1 GiB is far past any sane batch.
        max_frame_bytes: { t: 'int', min: 1024, max: 1024 * MiB, def: 16 * MiB },
        max_flows_per_batch: { t: 'int', min: 1, max: 1_000_000, def: 10_000 },
        max_connections_per_ip: { t: 'int', min: 1, max: 1_000_000, def: 64 },
        ping_interval_secs: { t: 'int', min: 1, max: 3600, def: 30 },
        // Flow timestamps later than now + this are rejected as implausible.
        max_clock_skew_secs: { t: 'int', min: 0, max: 7 * 86400, def: 86400 },
      },
    },
    health: {
      t: 'object',
      fields: {
        // An agent is flagged silent when nothing came from it for this many of its heartbeat intervals.
        silent_after_missed_heartbeats: { t: 'int', min: 1, max: 1000, def: 3 },
      },
    },
    alerts: {
      t: 'object',
      fields: {
        max_buffered_bytes_per_subscriber: { t: 'int', min: 1024, max: 1024 * MiB, def: 4 * MiB },
        max_replay_alerts: { t: 'int', min: 0, max: 10_000_000, def: 100_000 },
      },
    },
    detect: {
      t: 'object',
      fields: {
        port_scan: {
          t: 'object',
          fields: {
            enabled: { t: 'bool', def: true },
            min_ports: { t: 'int', min: 2, max: 65536, def: 5 },
            window_secs: { t: 'int', min: 1, max: 7 * 86400, def: 300 },
            suppress_secs: { t: 'int', min: 0, max: 30 * 86400, def: 3600 },
            max_tracked_pairs: { t: 'int', min: 1, max: 10_000_000, def: 100_000 },
          },
        },
      },
    },
  },
};

function invalid(message: string): CollectorError {
  return new CollectorError(CollectorErrorCode.CONFIG_INVALID, message);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function check(spec: Spec, value: unknown, at: string): unknown {
  const where = at || 'config';
  switch (spec.t) {
    case 'int':
      if (value === undefined) {
        if (spec.def === undefined) throw invalid(`${where} is required`);
        return spec.def;
      }
      if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
        throw invalid(`${where} must be an integer from ${spec.min} to ${spec.max} (got ${JSON.stringify(value)})`);
      }
      return value;
    case 'bool':
      if (value === undefined) {
        if (spec.def === undefined) throw invalid(`${where} is required`);
        return spec.def;
      }
      if (typeof value !== 'boolean') throw invalid(`${where} must be true or false (got ${JSON.stringify(value)})`);
      return value;
    case 'string':
      if (value === undefined) {
        if (spec.def === undefined) throw invalid(`${where} is required`);
        return spec.def;
      }
      if (typeof value !== 'string') throw invalid(`${where} must be a string (got ${typeName(value)})`);
      if (spec.oneOf && !spec.oneOf.includes(value)) {
        throw invalid(`${where} must be one of ${spec.oneOf.map((s) => JSON.stringify(s)).join(', ')} (got ${JSON.stringify(value)})`);
      }
      if (spec.maxLen !== undefined && value.length > spec.maxLen) throw invalid(`${where} must be at most ${spec.maxLen} characters`);
      if (spec.pattern && !spec.pattern.test(value)) throw invalid(`${where} must be ${spec.patternHelp ?? spec.pattern} (got ${JSON.stringify(value)})`);
      return value;
    case 'array': {
      if (value === undefined) {
        if (spec.def === undefined) throw invalid(`${where} is required`);
        return [...spec.def];
      }
      if (!Array.isArray(value)) throw invalid(`${where} must be an array (got ${typeName(value)})`);
      return value.map((item, i) => check(spec.of, item, `${where}[${i}]`));
    }
    case 'object': {
      if (value === undefined) {
        if (spec.required) throw invalid(`${where} is required`);
        value = {};
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw invalid(`${where} must be an object (got ${typeName(value)})`);
      }
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        if (!Object.prototype.hasOwnProperty.call(spec.fields, key)) {
          const known = Object.keys(spec.fields).join(', ');
          throw invalid(`unknown key "${at ? `${at}.` : ''}${key}" (allowed here: ${known})`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const [key, sub] of Object.entries(spec.fields)) out[key] = check(sub, obj[key], at ? `${at}.${key}` : key);
      return out;
    }
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v as Record<string, unknown>)) deepFreeze(child);
  }
  return v;
}

function uniqueBy<T>(items: readonly T[], key: (t: T) => string, what: (i: number, k: string) => string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) throw invalid(what(i, k));
    seen.set(k, i);
  });
}

/**
 * Validate a parsed config object. `baseDir` is where relative paths resolve (the config file's folder).
 * Throws CollectorError(COLL_ERR_CONFIG_INVALID) with a message naming the offending key.
 */
export function validateConfig(raw: unknown, baseDir: string): CollectorConfig {
  const cfg = check(SCHEMA, raw, '') as {
    store: { sqlite_path: string };
    auth: { agents: AgentCredential[]; subscribers: SubscriberCredential[] };
  } & CollectorConfig;
  if (cfg.store.sqlite_path !== ':memory:') cfg.store.sqlite_path = path.resolve(baseDir, cfg.store.sqlite_path);
  for (const list of [cfg.auth.agents, cfg.auth.subscribers]) {
    for (const c of list) (c as { token_sha256: string }).token_sha256 = c.token_sha256.toLowerCase();
  }
  uniqueBy(cfg.auth.agents, (a) => a.agent_id, (i, k) => `auth.agents[${i}].agent_id "${k}" is listed twice`);
  uniqueBy(cfg.auth.subscribers, (s) => s.name, (i, k) => `auth.subscribers[${i}].name "${k}" is listed twice`);
  uniqueBy(
    [...cfg.auth.agents, ...cfg.auth.subscribers],
    (c) => c.token_sha256,
    () => 'auth: the same token_sha256 is given to more than one agent/subscriber',
  );
  return deepFreeze(cfg);
}

/** Overrides from the command line, applied before validation so they are checked like the file. */
export interface ConfigOverrides {
  listen?: { host: string; port: number };
  /** taken relative to the current directory, as command-line paths are */
  sqlitePath?: string;
}

export function loadConfigFile(file: string, overrides: ConfigOverrides = {}): CollectorConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CollectorError(CollectorErrorCode.CONFIG_UNREADABLE, `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CollectorError(CollectorErrorCode.CONFIG_UNREADABLE, `config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const obj = raw as Record<string, unknown>;
    if (overrides.listen) obj.listen = { ...(obj.listen as object), ...overrides.listen };
    if (overrides.sqlitePath !== undefined) {
      const p = overrides.sqlitePath === ':memory:' ? ':memory:' : path.resolve(overrides.sqlitePath);
      obj.store = { ...(obj.store as object), sqlite_path: p };
    }
  }
  try {
    return validateConfig(raw, path.dirname(path.resolve(file)));
  } catch (err) {
    if (err instanceof CollectorError) err.message = `${file}: ${err.message}`;
    throw err;
  }
}

/** Parse `HOST:PORT` (IPv6 as `[::1]:7470`). Returns undefined when malformed. */
export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2], port };
}
