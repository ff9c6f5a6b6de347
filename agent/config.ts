// The agent's configuration: one object, built once at start from defaults, an optional JSON file and
// command-line flags (in that order of precedence), validated, then frozen and handed down in slices.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AgentError, AgentErrorCode } from './errors';
import { normalizePin } from './transport/tls-options';

export interface AgentConfig {
  readonly agent_id: string;
  readonly source: {
    /** Exactly one of interface / file is set. */
    readonly interface: string;
    readonly file: string;
    readonly bpf_filter: string;
    readonly snaplen_bytes: number;
    readonly promiscuous: boolean;
    readonly buffer_bytes: number;
    readonly buffer_timeout_ms: number;
    /** File replay pacing in packets per second; 0 = as fast as possible. */
    readonly replay_pps: number;
  };
  readonly flow: {
    readonly max_flows: number;
    /** UDP and other protocols. */
    readonly idle_timeout_secs: number;
    readonly tcp_idle_timeout_secs: number;
    /** TCP before the responder answers: short, so scans and SYN floods cannot fill the table. */
    readonly tcp_half_open_timeout_secs: number;
    readonly icmp_idle_timeout_secs: number;
    /** A flow open this long is exported as an interim record and goes on. */
    readonly active_timeout_secs: number;
    readonly tcp_close_grace_secs: number;
    readonly early_packets: number;
    readonly app_inspect_packets: number;
    /** 'full': every statistic (CICFlowMeter, NFStream early packets); 'compact': NetFlow-sized records, ~200 B per open flow. */
    readonly features: 'full' | 'compact';
  };
  readonly export: {
    readonly max_flows_per_batch: number;
    readonly flush_interval_ms: number;
  };
  readonly collector: {
    /** Empty: no collector (flows go only to the outputs). */
    readonly url: string;
    readonly token: string;
    readonly token_file: string;
    /** One-time enrolment token (from `collector enrol create`), used when credential_file does not exist yet. */
    readonly enrol_token: string;
    readonly enrol_token_file: string;
    /** Where the credential from enrolment is kept (mode 0600); when it exists it is used instead of token. */
    readonly credential_file: string;
    readonly tls: {
      /** PEM CA bundle the collector's certificate must chain to ('' = the system CAs). */
      readonly ca_file: string;
      /** sha256 of the collector certificate's public key (SPKI) or of the whole certificate, hex or base64. */
      readonly pin_sha256: string;
      /** Client certificate and key (PEM) for collectors that require mutual TLS. */
      readonly cert_file: string;
      readonly key_file: string;
    };
    readonly window_batches: number;
    readonly connect_timeout_ms: number;
    readonly backoff_initial_ms: number;
    readonly backoff_max_ms: number;
    readonly ping_interval_ms: number;
    readonly heartbeat_interval_ms: number;
    /** After a capture file ends: how long to wait for the collector to acknowledge everything. */
    readonly drain_timeout_ms: number;
  };
  /** The disk spool between the batcher and the collector (agent/transport/spool.ts). */
  readonly spool: {
    /** Empty: a private temporary directory, removed at exit (batches then do not survive a restart). */
    readonly dir: string;
    readonly max_bytes: number;
    readonly segment_bytes: number;
    /** When full: `block` pauses a file replay (a live capture drops the new batch); `drop_oldest` deletes the oldest segment. */
    readonly full_policy: 'block' | 'drop_oldest';
  };
  readonly output: {
    /** Path for one JSON object per flow; '-' is stdout; empty: none. */
    readonly jsonl: string;
    /** Path for CICFlowMeter-compatible CSV; '-' is stdout; empty: none. */
    readonly csv: string;
  };
  readonly metrics: {
    /** HOST:PORT for GET /metrics and /healthz; empty: no server. */
    readonly listen: string;
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };

export function defaultConfig(): Mutable<AgentConfig> {
  return {
    agent_id: '',
    source: {
      interface: '', file: '', bpf_filter: '', snaplen_bytes: 262144, promiscuous: true,
      buffer_bytes: 16 * 1024 * 1024, buffer_timeout_ms: 100, replay_pps: 0,
    },
    flow: {
      max_flows: 262144, idle_timeout_secs: 120, tcp_idle_timeout_secs: 300, tcp_half_open_timeout_secs: 20,
      icmp_idle_timeout_secs: 30, active_timeout_secs: 300, tcp_close_grace_secs: 5, early_packets: 10,
      app_inspect_packets: 6, features: 'full',
    },
    export: { max_flows_per_batch: 1000, flush_interval_ms: 1000 },
    collector: {
      url: '', token: '', token_file: '', enrol_token: '', enrol_token_file: '', credential_file: '',
      tls: { ca_file: '', pin_sha256: '', cert_file: '', key_file: '' },
      window_batches: 16,
      connect_timeout_ms: 10000, backoff_initial_ms: 500, backoff_max_ms: 30000, ping_interval_ms: 15000,
      heartbeat_interval_ms: 10000, drain_timeout_ms: 60000,
    },
    spool: { dir: '', max_bytes: 1024 * 1024 * 1024, segment_bytes: 8 * 1024 * 1024, full_policy: 'block' },
    output: { jsonl: '', csv: '' },
    metrics: { listen: '' },
  };
}

/** Bounds per numeric option: [min, max]. */
const RANGES: Record<string, [number, number]> = {
  'source.snaplen_bytes': [64, 262144],
  'source.buffer_bytes': [65536, 2 ** 31 - 1],
  'source.buffer_timeout_ms': [0, 10000],
  'source.replay_pps': [0, 1e9],
  'flow.max_flows': [16, 16_777_216],
  'flow.idle_timeout_secs': [1, 30 * 86400],
  'flow.tcp_idle_timeout_secs': [1, 30 * 86400],
  'flow.tcp_half_open_timeout_secs': [1, 30 * 86400],
  'flow.icmp_idle_timeout_secs': [1, 30 * 86400],
  'flow.active_timeout_secs': [1, 30 * 86400],
  'flow.tcp_close_grace_secs': [0, 600],
  'flow.early_packets': [0, 64],
  'flow.app_inspect_packets': [0, 64],
  'export.max_flows_per_batch': [1, 100000],
  'export.flush_interval_ms': [10, 600000],
  'collector.window_batches': [1, 10000],
  'collector.connect_timeout_ms': [100, 600000],
  'collector.backoff_initial_ms': [10, 600000],
  'collector.backoff_max_ms': [10, 3600000],
  'collector.ping_interval_ms': [100, 3600000],
  'collector.heartbeat_interval_ms': [100, 3600000],
  'collector.drain_timeout_ms': [0, 86400000],
  'spool.max_bytes': [256 * 1024, 2 ** 50],
  'spool.segment_bytes': [64 * 1024, 2 ** 31 - 1],
};

function invalid(message: string): AgentError {
  return new AgentError(AgentErrorCode.CONFIG_INVALID, message);
}

/**
 * Copies `from` onto `into`, rejecting keys and types the defaults do not have. `origins` learns
 * where each option was set ("config file X" or "command line"), for errors found after merging.
 */
function merge(into: Record<string, unknown>, from: unknown, path: string, where: string, origins: Map<string, string>): void {
  if (typeof from !== 'object' || from === null || Array.isArray(from)) {
    throw invalid(`${where}: ${path || 'the top level'} must be an object`);
  }
  for (const [key, value] of Object.entries(from)) {
    const full = path ? `${path}.${key}` : key;
    if (!(key in into)) throw invalid(`${where}: unknown option "${full}"`);
    const current = into[key];
    if (typeof current === 'object' && current !== null) {
      merge(current as Record<string, unknown>, value, full, where, origins);
    } else if (typeof value !== typeof current) {
      throw invalid(`${where}: option "${full}" must be a ${typeof current}, got ${JSON.stringify(value)}`);
    } else {
      into[key] = value;
      origins.set(full, where);
    }
  }
}

function deepFreeze<T>(o: T): T {
  for (const v of Object.values(o as object)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(o);
}

/** `HOST:PORT` (IPv6 as `[::1]:9464`), undefined when malformed. */
export function parseListen(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s);
  if (!m || Number(m[3]) > 65535) return undefined;
  return { host: m[1] ?? m[2], port: Number(m[3]) };
}

export function loadConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentError(AgentErrorCode.CONFIG_UNREADABLE, `cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Builds the frozen config. `file` is the parsed config file (paths in it are relative to its folder),
 * `overrides` has the same shape, from the command line.
 */
export function buildConfig(file: { path: string; data: unknown } | null, overrides: unknown): AgentConfig {
  const cfg = defaultConfig();
  const origins = new Map<string, string>();
  /** "config file X: " or "command line: " before a message about one option. */
  const from = (option: string): string => (origins.has(option) ? `${origins.get(option)}: ` : '');
  if (file) {
    merge(cfg as unknown as Record<string, unknown>, file.data, '', `config file ${file.path}`, origins);
    const base = dirname(resolve(file.path));
    if (cfg.source.file && cfg.source.file !== '-') cfg.source.file = resolve(base, cfg.source.file);
    const c = cfg.collector;
    for (const key of ['token_file', 'enrol_token_file', 'credential_file'] as const) if (c[key]) c[key] = resolve(base, c[key]);
    for (const key of ['ca_file', 'cert_file', 'key_file'] as const) if (c.tls[key]) c.tls[key] = resolve(base, c.tls[key]);
    if (cfg.spool.dir) cfg.spool.dir = resolve(base, cfg.spool.dir);
    if (cfg.output.jsonl && cfg.output.jsonl !== '-') cfg.output.jsonl = resolve(base, cfg.output.jsonl);
    if (cfg.output.csv && cfg.output.csv !== '-') cfg.output.csv = resolve(base, cfg.output.csv);
  }
  merge(cfg as unknown as Record<string, unknown>, overrides, '', 'command line', origins);

  for (const [path, [min, max]] of Object.entries(RANGES)) {
    const [section, key] = path.split('.');
    const value = (cfg as unknown as Record<string, Record<string, number>>)[section][key];
    if (!Number.isFinite(value) || value < min || value > max) {
      throw invalid(`${from(path)}option "${path}" must be a number from ${min} to ${max}, got ${value}`);
    }
  }
  if (cfg.flow.features !== 'full' && cfg.flow.features !== 'compact') {
    throw invalid(`option "flow.features" must be "full" or "compact", got ${JSON.stringify(cfg.flow.features)}`);
  }
  if (cfg.spool.full_policy !== 'block' && cfg.spool.full_policy !== 'drop_oldest') {
    throw invalid(`option "spool.full_policy" must be "block" or "drop_oldest", got ${JSON.stringify(cfg.spool.full_policy)}`);
  }
  if (cfg.spool.segment_bytes > cfg.spool.max_bytes / 4) {
    throw invalid(`option "spool.segment_bytes" (${cfg.spool.segment_bytes}) must be at most a quarter of spool.max_bytes (${cfg.spool.max_bytes}), so that freeing one segment makes room`);
  }
  const s = cfg.source;
  if (!s.interface && !s.file) throw invalid('nothing to capture: give an interface (--interface) or a capture file (--read)');
  if (s.interface && s.file) throw invalid('give either an interface or a capture file, not both');
  if (!cfg.collector.url && !cfg.output.jsonl && !cfg.output.csv) {
    throw invalid('nowhere to send flows: give a collector (--collector URL) or an output (--jsonl FILE, --csv FILE)');
  }
  if (cfg.metrics.listen && !parseListen(cfg.metrics.listen)) {
    throw invalid(`option "metrics.listen" must be HOST:PORT, e.g. 127.0.0.1:9464 (got "${cfg.metrics.listen}")`);
  }
  if (cfg.output.jsonl === '-' && cfg.output.csv === '-') throw invalid('--jsonl and --csv cannot both write to stdout');
  if (cfg.collector.url) {
    let url: URL;
    try {
      url = new URL(cfg.collector.url);
    } catch {
      throw invalid(`${from('collector.url')}collector URL "${cfg.collector.url}" is not a URL`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw invalid(`${from('collector.url')}collector URL "${cfg.collector.url}" must start with ws:// or wss://`);
    }
    // A bare collector address means its agent endpoint.
    if (url.pathname === '/' || url.pathname === '') {
      url.pathname = '/v1/agent';
      cfg.collector.url = url.toString();
    }
    const c = cfg.collector;
    if (!cfg.agent_id && !c.credential_file) throw invalid('an agent id is needed to talk to a collector (--agent-id or "agent_id"), or a collector.credential_file to enrol into');
    if (cfg.agent_id && !/^[A-Za-z0-9._-]{1,64}$/.test(cfg.agent_id)) {
      throw invalid(`${from('agent_id')}agent id "${cfg.agent_id}" must be 1–64 letters, digits, '.', '_' or '-'`);
    }
    if (cfg.collector.token_file) {
      try {
        cfg.collector.token = readFileSync(cfg.collector.token_file, 'utf8').trim();
      } catch (err) {
        throw new AgentError(AgentErrorCode.CONFIG_UNREADABLE, `cannot read token file ${cfg.collector.token_file}: ${(err as Error).message}`);
      }
    }
    if (c.enrol_token_file) {
      try {
        c.enrol_token = readFileSync(c.enrol_token_file, 'utf8').trim();
      } catch (err) {
        throw new AgentError(AgentErrorCode.CONFIG_UNREADABLE, `cannot read enrolment token file ${c.enrol_token_file}: ${(err as Error).message}`);
      }
    }
    if (c.enrol_token && !c.credential_file) throw invalid('collector.enrol_token needs collector.credential_file (where the credential it buys is kept)');
    if (!c.token && !c.credential_file) {
      throw invalid('a token is needed to talk to a collector (--token, --token-file or "collector.token"), or a collector.credential_file (from enrolment)');
    }
    const t = c.tls;
    if ((t.ca_file || t.pin_sha256 || t.cert_file || t.key_file) && url.protocol !== 'wss:') {
      throw invalid(`collector.tls is set but the collector URL "${c.url}" is not wss://`);
    }
    if (Boolean(t.cert_file) !== Boolean(t.key_file)) throw invalid('collector.tls.cert_file and collector.tls.key_file must be given together');
    if (t.pin_sha256) {
      const pin = normalizePin(t.pin_sha256);
      if (!pin) throw invalid(`collector.tls.pin_sha256 "${t.pin_sha256}" must be a sha256: 64 hex digits (colons allowed) or 44 base64 characters`);
      t.pin_sha256 = pin;
    }
    if (cfg.collector.backoff_max_ms < cfg.collector.backoff_initial_ms) {
      throw invalid(`${from('collector.backoff_max_ms')}collector.backoff_max_ms must not be below collector.backoff_initial_ms`);
    }
  }
  return deepFreeze(cfg);
}
