// The collector's one config object: read once at start, validated against SCHEMA (unknown keys are
// rejected, naming the key), defaults filled in, relative paths resolved against the config file's
// folder, then deep-frozen. Option names carry their unit (_bytes, _secs). main.ts hands each module
// its slice. docs/collector.md documents every key.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CollectorError, CollectorErrorCode } from './errors';

export interface ListenTlsConfig {
  /** PEM paths, absolute after loading; '' = plain HTTP (cert_file and key_file come together) */
  readonly cert_file: string;
  readonly key_file: string;
  /** PEM CA bundle; when set, every client (agents, subscribers, enrolment) must present a certificate it signed */
  readonly client_ca_file: string;
}
export interface ListenConfig {
  readonly host: string;
  readonly port: number;
  readonly tls: ListenTlsConfig;
}
/** store.postgres: the shared database of several collectors (store/postgres/). */
export interface PostgresConfig {
  /** postgres://user@host:port/database; '' = use host/port/database/user */
  readonly url: string;
  /** a name, an address, or a Unix socket folder (starting with /) */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** absolute after loading; the file holds the password (trailing newline ignored); '' = none */
  readonly password_file: string;
  readonly pool_size: number;
  /** flows partitions that end more than this many days ago are dropped; 0 keeps everything */
  readonly retention_days: number;
  /** width of one flows partition */
  readonly partition_days: number;
}
export interface StoreConfig {
  /** 'sqlite': one file, one collector (the default); 'postgres': a server shared by several collectors */
  readonly kind: 'sqlite' | 'postgres';
  readonly postgres: PostgresConfig;
  /** absolute after loading (or ':memory:') */
  readonly sqlite_path: string;
  /** SQLite synchronous mode; 'full' fsyncs the WAL at every commit, so an ack survives power loss */
  readonly synchronous: 'full' | 'normal';
}
/** Scale-out over NATS JetStream (collector/cluster/, docs/scaling.md); enabled: false = one process, as before. */
export interface ClusterConfig {
  readonly enabled: boolean;
  readonly nats_url: string;
  /** JetStream stream of flow batches (subjects STREAM.p.<partition>); alerts go to STREAM_ALERTS, leases to the KV bucket STREAM_leases */
  readonly stream: string;
  readonly partitions: number;
  /** ingest: agents → JetStream; worker: JetStream → store + detection; both: one process does both */
  readonly role: 'ingest' | 'worker' | 'both';
  /** a worker that stops renewing loses its partitions after this long */
  readonly lease_ttl_ms: number;
  /** ingest refuses batches (STORE_FAILED, the agent resends later) while the workers are this many parts behind; 0 = no bound */
  readonly max_backlog_msgs: number;
  /** on takeover, detection state is rebuilt by replaying this much of the partition (publish time) before its ack floor */
  readonly replay_window_secs: number;
  /** worker: folder of one SQLite file per partition (written only by the partition's owner); '' = the collector's store, which must then be PostgreSQL */
  readonly partition_store_dir: string;
}
export interface AgentCredential {
  readonly agent_id: string;
  readonly token_sha256: string;
}
export interface SubscriberCredential {
  readonly name: string;
  readonly token_sha256: string;
}
/** Same shape as a subscriber's: a name and the sha256 of the token. */
export type OperatorCredential = SubscriberCredential;
export interface AuthConfig {
  readonly agents: readonly AgentCredential[];
  readonly subscribers: readonly SubscriberCredential[];
  /** how often open agent connections are checked against revocations (made by `agents revoke`) */
  readonly revocation_check_secs: number;
  /** default lifetime of a token made by `enrol create` */
  readonly enrol_token_ttl_secs: number;
  /** dashboard and /api/ logins */
  readonly operators: readonly OperatorCredential[];
}
export interface LimitsConfig {
  readonly max_frame_bytes: number;
  readonly max_flows_per_batch: number;
  readonly max_connections_per_ip: number;
  readonly ping_interval_secs: number;
  readonly max_clock_skew_secs: number;
  readonly max_pending_connections_per_ip: number;
  readonly handshake_timeout_secs: number;
}
/** Which alerts an output takes (alerts/filter.ts); empty lists mean any. */
export interface OutputFilterConfig {
  readonly min_severity: 'low' | 'medium' | 'high' | 'critical';
  readonly categories: readonly string[];
  readonly agents: readonly string[];
  readonly hosts: readonly string[];
}
export interface RetryConfig {
  readonly max_queue: number;
  readonly max_attempts: number;
  readonly initial_backoff_ms: number;
  readonly max_backoff_ms: number;
}
export interface WebhookConfig extends OutputFilterConfig, RetryConfig {
  readonly name: string;
  readonly url: string;
  /** absolute after loading; the file holds the HMAC secret */
  readonly secret_file: string;
  readonly format: 'alert' | 'ecs';
  readonly timeout_ms: number;
}
export interface SyslogConfig extends OutputFilterConfig, RetryConfig {
  readonly name: string;
  readonly transport: 'udp' | 'tcp' | 'tls';
  /** TLS: the CA bundle (PEM) to verify the receiver with; empty: the system's CAs. Absolute after loading. */
  readonly ca_file: string;
  readonly host: string;
  readonly port: number;
  readonly format: 'cef' | 'ecs_json';
  readonly facility: number;
  readonly app_name: string;
  readonly sd_id: string;
  readonly timeout_ms: number;
}
export interface OutputsConfig {
  readonly webhooks: readonly WebhookConfig[];
  readonly syslog: readonly SyslogConfig[];
}
export interface HealthConfig {
  readonly silent_after_missed_heartbeats: number;
}
export interface AlertsConfig {
  readonly max_buffered_bytes_per_subscriber: number;
  readonly max_replay_alerts: number;
  readonly outputs: OutputsConfig;
}
export interface WebConfig {
  readonly enabled: boolean;
  readonly session_ttl_secs: number;
  readonly max_sessions: number;
}
export interface StixConfig {
  /** identity.name of the producer in exported bundles */
  readonly producer_name: string;
  readonly producer_class: 'organization' | 'system' | 'group' | 'individual' | 'class' | 'unknown';
}
export interface PortScanConfig {
  readonly enabled: boolean;
  readonly min_ports: number;
  readonly window_secs: number;
  readonly suppress_secs: number;
  readonly max_tracked_pairs: number;
}
export interface HostScanConfig {
  readonly enabled: boolean;
  readonly min_hosts: number;
  readonly min_echo_hosts: number;
  readonly window_secs: number;
  readonly suppress_secs: number;
  readonly max_tracked_sources: number;
}
export interface TrwConfig {
  readonly enabled: boolean;
  readonly benign_success_prob: number;
  readonly scanner_success_prob: number;
  readonly false_positive_prob: number;
  readonly detection_prob: number;
  readonly idle_secs: number;
  readonly suppress_secs: number;
  readonly max_tracked_sources: number;
}
export interface FloodConfig {
  readonly enabled: boolean;
  readonly min_packets_per_sec: number;
  readonly min_packets: number;
  readonly window_secs: number;
  readonly max_reply_ratio: number;
  readonly suppress_secs: number;
  readonly max_tracked_targets: number;
}
export interface BruteForceConfig {
  readonly enabled: boolean;
  readonly min_connections: number;
  readonly window_secs: number;
  readonly max_duration_secs: number;
  readonly max_client_payload_bytes: number;
  readonly ports: readonly number[];
  readonly http_post_ports: readonly number[];
  readonly suppress_secs: number;
  readonly max_tracked_pairs: number;
}
export interface SlowDosConfig {
  readonly enabled: boolean;
  readonly min_connections: number;
  readonly min_duration_secs: number;
  readonly max_client_bytes_per_sec: number;
  readonly window_secs: number;
  readonly suppress_secs: number;
  readonly max_tracked_targets: number;
}
export interface BeaconingConfig {
  readonly enabled: boolean;
  readonly min_connections: number;
  readonly min_span_secs: number;
  readonly min_interval_secs: number;
  readonly min_score: number;
  readonly ignore_ports: readonly number[];
  readonly max_history: number;
  readonly suppress_secs: number;
  readonly max_tracked_pairs: number;
}
export interface ExfiltrationConfig {
  readonly enabled: boolean;
  readonly bucket_secs: number;
  readonly learning_buckets: number;
  readonly min_bytes: number;
  readonly deviation_factor: number;
  readonly suppress_secs: number;
  readonly max_tracked_hosts: number;
}
export interface DnsTunnelConfig {
  readonly enabled: boolean;
  readonly min_label_chars: number;
  readonly min_entropy_bits_per_char: number;
  readonly min_suspicious_queries: number;
  readonly min_txt_null_queries: number;
  readonly max_unique_subdomains: number;
  readonly window_secs: number;
  readonly suppress_secs: number;
  readonly max_tracked_domains: number;
}
export interface IntelSourceConfig {
  readonly name: string;
  /** exactly one of path / url; path absolute after loading */
  readonly path: string;
  readonly url: string;
  readonly format: 'list' | 'stix';
}
export interface ThreatIntelConfig {
  readonly enabled: boolean;
  readonly sources: readonly IntelSourceConfig[];
  readonly reload_secs: number;
  readonly max_indicators: number;
  readonly suppress_secs: number;
}
export interface AnomalyConfig {
  readonly enabled: boolean;
  readonly learning_flows: number;
  readonly alert_rate: number;
  readonly trees: number;
  readonly tree_height: number;
  readonly window_flows: number;
  readonly max_networks: number;
  readonly network_prefix_v4: number;
  readonly network_prefix_v6: number;
}
export interface DetectConfig {
  readonly suppress_secs: number;
  readonly local_networks: readonly string[];
  readonly port_scan: PortScanConfig;
  readonly host_scan: HostScanConfig;
  readonly trw: TrwConfig;
  readonly syn_flood: FloodConfig;
  readonly udp_flood: FloodConfig;
  readonly icmp_flood: FloodConfig;
  readonly brute_force: BruteForceConfig;
  readonly slow_dos: SlowDosConfig;
  readonly beaconing: BeaconingConfig;
  readonly exfiltration: ExfiltrationConfig;
  readonly dns_tunnel: DnsTunnelConfig;
  readonly threat_intel: ThreatIntelConfig;
  readonly anomaly: AnomalyConfig;
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
  readonly web: WebConfig;
  readonly stix: StixConfig;
  readonly cluster: ClusterConfig;
}

// ---- schema -------------------------------------------------------------------------------------

type Spec =
  | { t: 'int'; min: number; max: number; def?: number }
  | { t: 'number'; min: number; max: number; def?: number }
  | { t: 'bool'; def?: boolean }
  | { t: 'string'; def?: string; maxLen?: number; pattern?: RegExp; patternHelp?: string; oneOf?: readonly string[] }
  | { t: 'object'; fields: Record<string, Spec>; required?: boolean }
  | { t: 'array'; of: Spec; def?: readonly unknown[] };

const MiB = 1024 * 1024;
const SHA256_HEX = { t: 'string', pattern: /^[0-9a-fA-F]{64}$/, patternHelp: '64 hex digits (sha256 of the token; see `hash-token`)' } as const;
const NAME = { t: 'string', maxLen: 128, pattern: /^[^\x00-\x1f\x7f]+$/, patternHelp: 'a non-empty name without control characters' } as const;
const SEVERITY = ['low', 'medium', 'high', 'critical'] as const;
const STRINGS = { t: 'array', def: [], of: { t: 'string', maxLen: 256 } } as const;
const FILTER_FIELDS: Record<string, Spec> = {
  min_severity: { t: 'string', def: 'low', oneOf: SEVERITY },
  categories: STRINGS,
  agents: STRINGS,
  hosts: STRINGS,
};
const RETRY_FIELDS: Record<string, Spec> = {
  max_queue: { t: 'int', min: 1, max: 10_000_000, def: 10_000 },
  max_attempts: { t: 'int', min: 1, max: 1000, def: 8 },
  initial_backoff_ms: { t: 'int', min: 1, max: 3_600_000, def: 500 },
  max_backoff_ms: { t: 'int', min: 1, max: 86_400_000, def: 60_000 },
};

// Thresholds of the detectors; docs/detection.md explains each with its unit.
const DAY = 86400;
const enabled = { t: 'bool', def: true } as const;
const secs = (def: number, min = 1, max = 30 * DAY): Spec => ({ t: 'int', min, max, def });
const count = (def: number, min = 1, max = 10_000_000): Spec => ({ t: 'int', min, max, def });
const ratio = (def: number, min = 0, max = 1): Spec => ({ t: 'number', min, max, def });
const PORT_LIST = (def: readonly number[]): Spec => ({ t: 'array', of: { t: 'int', min: 0, max: 65535 }, def });
const flood = (pps: number, minPackets: number, replyRatio: number): Spec => ({
  t: 'object',
  fields: {
    enabled, min_packets_per_sec: count(pps), min_packets: count(minPackets), window_secs: secs(1, 1, 3600),
    max_reply_ratio: ratio(replyRatio, 0, 1000), suppress_secs: secs(300, 0), max_tracked_targets: count(100_000),
  },
});
const DETECT_SCHEMA: Spec = {
  t: 'object',
  fields: {
    suppress_secs: secs(600, 0),
    local_networks: {
      t: 'array',
      of: { t: 'string', pattern: /^[0-9a-fA-F:.]+\/\d{1,3}$/, patternHelp: 'an address prefix like 10.0.0.0/8 or fc00::/7' },
      def: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', '127.0.0.0/8', 'fc00::/7', 'fe80::/10', '::1/128'],
    },
    port_scan: {
      t: 'object',
      fields: {
        enabled,
        min_ports: { t: 'int', min: 2, max: 65536, def: 5 },
        window_secs: { t: 'int', min: 1, max: 7 * DAY, def: 300 },
        suppress_secs: { t: 'int', min: 0, max: 30 * DAY, def: 3600 },
        max_tracked_pairs: { t: 'int', min: 1, max: 10_000_000, def: 100_000 },
      },
    },
    host_scan: {
      t: 'object',
      fields: { enabled, min_hosts: count(25, 2), min_echo_hosts: count(15, 2), window_secs: secs(300), suppress_secs: secs(3600, 0), max_tracked_sources: count(100_000) },
    },
    trw: {
      t: 'object',
      fields: {
        enabled,
        benign_success_prob: ratio(0.8, 0.01, 0.99),
        scanner_success_prob: ratio(0.2, 0.01, 0.99),
        false_positive_prob: ratio(0.01, 0.0001, 0.5),
        detection_prob: ratio(0.99, 0.5, 0.9999),
        idle_secs: secs(DAY),
        suppress_secs: secs(3600, 0),
        max_tracked_sources: count(100_000),
      },
    },
    syn_flood: flood(100, 100, 0.1),
    udp_flood: flood(1000, 1000, 0.1),
    icmp_flood: flood(100, 200, 1),
    brute_force: {
      t: 'object',
      fields: {
        enabled,
        min_connections: count(10, 2),
        window_secs: secs(900),
        max_duration_secs: secs(30),
        max_client_payload_bytes: count(4096),
        ports: PORT_LIST([21, 22, 23, 25, 110, 143, 465, 587, 902, 993, 995, 1433, 3306, 3389, 5432, 5900]),
        http_post_ports: PORT_LIST([80, 8000, 8080]),
        suppress_secs: secs(1800, 0),
        max_tracked_pairs: count(100_000),
      },
    },
    slow_dos: {
      t: 'object',
      fields: {
        enabled,
        min_connections: count(20, 2),
        min_duration_secs: secs(60),
        max_client_bytes_per_sec: count(200),
        window_secs: secs(600),
        suppress_secs: secs(1800, 0),
        max_tracked_targets: count(100_000),
      },
    },
    beaconing: {
      t: 'object',
      fields: {
        enabled,
        min_connections: count(12, 4),
        min_span_secs: secs(20),
        min_interval_secs: secs(1),
        min_score: ratio(0.8),
        ignore_ports: PORT_LIST([53, 123, 137, 138, 5353, 5355]),
        max_history: count(64, 8, 4096),
        suppress_secs: secs(3600, 0),
        max_tracked_pairs: count(100_000),
      },
    },
    exfiltration: {
      t: 'object',
      fields: {
        enabled,
        bucket_secs: secs(300, 10),
        learning_buckets: count(12, 2, 100_000),
        min_bytes: count(50_000_000, 1, Number.MAX_SAFE_INTEGER),
        deviation_factor: ratio(6, 1, 1000),
        suppress_secs: secs(3600, 0),
        max_tracked_hosts: count(100_000),
      },
    },
    dns_tunnel: {
      t: 'object',
      fields: {
        enabled,
        min_label_chars: count(30, 8, 253),
        min_entropy_bits_per_char: ratio(3.3, 0, 8),
        min_suspicious_queries: count(5),
        min_txt_null_queries: count(10),
        max_unique_subdomains: count(100, 2),
        window_secs: secs(300),
        suppress_secs: secs(1800, 0),
        max_tracked_domains: count(100_000),
      },
    },
    threat_intel: {
      t: 'object',
      fields: {
        enabled,
        sources: {
          t: 'array',
          def: [],
          of: {
            t: 'object',
            required: true,
            fields: {
              name: { t: 'string', def: '', maxLen: 128 },
              path: { t: 'string', def: '' },
              url: { t: 'string', def: '', pattern: /^(|https?:\/\/\S+)$/, patternHelp: 'an http:// or https:// URL' },
              format: { t: 'string', def: 'list', oneOf: ['list', 'stix'] },
            },
          },
        },
        reload_secs: secs(300),
        max_indicators: count(1_000_000),
        suppress_secs: secs(3600, 0),
      },
    },
    anomaly: {
      t: 'object',
      fields: {
        enabled,
        learning_flows: count(20_000, 100),
        alert_rate: ratio(0.0001, 0.000001, 0.5),
        trees: count(10, 1, 200),
        tree_height: count(8, 2, 16),
        window_flows: count(1000, 10),
        max_networks: count(64),
        network_prefix_v4: { t: 'int', min: 0, max: 32, def: 0 },
        network_prefix_v6: { t: 'int', min: 0, max: 128, def: 0 },
      },
    },
  },
};

const SCHEMA: Spec = {
  t: 'object',
  fields: {
    collector_id: { t: 'string', def: os.hostname(), maxLen: 128 },
    listen: {
      t: 'object',
      fields: {
        host: { t: 'string', def: '127.0.0.1', pattern: /^\S+$/, patternHelp: 'a host name or address' },
        port: { t: 'int', min: 0, max: 65535, def: 7470 },
        tls: {
          t: 'object',
          fields: {
            cert_file: { t: 'string', def: '' },
            key_file: { t: 'string', def: '' },
            client_ca_file: { t: 'string', def: '' },
          },
        },
      },
    },
    store: {
      t: 'object',
      fields: {
        sqlite_path: { t: 'string', def: 'goalkeeper.sqlite', pattern: /\S/, patternHelp: 'a file path' },
        synchronous: { t: 'string', def: 'full', oneOf: ['full', 'normal'] },
        kind: { t: 'string', def: 'sqlite', oneOf: ['sqlite', 'postgres'] },
        postgres: {
          t: 'object',
          fields: {
            url: { t: 'string', def: '', pattern: /^(|postgres(ql)?:\/\/\S+)$/, patternHelp: 'a postgres:// or postgresql:// URL' },
            host: { t: 'string', def: 'localhost', pattern: /^\S+$/, patternHelp: 'a host name, an address or a socket folder' },
            port: { t: 'int', min: 1, max: 65535, def: 5432 },
            database: { t: 'string', def: 'goalkeeper', pattern: /^\S+$/, patternHelp: 'a database name' },
            user: { t: 'string', def: 'goalkeeper', pattern: /^\S+$/, patternHelp: 'a role name' },
            password_file: { t: 'string', def: '' },
            pool_size: { t: 'int', min: 1, max: 1000, def: 10 },
            retention_days: { t: 'int', min: 0, max: 36_500, def: 30 },
            partition_days: { t: 'int', min: 1, max: 366, def: 1 },
          },
        },
      },
    },
    auth: {
      t: 'object',
      required: true,
      fields: {
        agents: { t: 'array', def: [], of: { t: 'object', required: true, fields: { agent_id: NAME, token_sha256: SHA256_HEX } } },
        subscribers: { t: 'array', def: [], of: { t: 'object', required: true, fields: { name: NAME, token_sha256: SHA256_HEX } } },
        revocation_check_secs: { t: 'int', min: 1, max: 3600, def: 5 },
        enrol_token_ttl_secs: { t: 'int', min: 1, max: 365 * 86400, def: 86400 },
        operators: { t: 'array', def: [], of: { t: 'object', required: true, fields: { name: NAME, token_sha256: SHA256_HEX } } },
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
        // Connections from one address still in their TCP/TLS/HTTP handshake (or on plain GETs).
        max_pending_connections_per_ip: { t: 'int', min: 1, max: 1_000_000, def: 32 },
        // TLS handshake and HTTP request headers each; an upgraded agent must send Hello within it too.
        handshake_timeout_secs: { t: 'int', min: 1, max: 600, def: 10 },
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
        outputs: {
          t: 'object',
          fields: {
            webhooks: {
              t: 'array',
              def: [],
              of: {
                t: 'object',
                required: true,
                fields: {
                  name: NAME,
                  url: { t: 'string', pattern: /^https?:\/\/\S+$/, patternHelp: 'an http:// or https:// URL' },
                  secret_file: { t: 'string', pattern: /\S/, patternHelp: 'a file path' },
                  format: { t: 'string', def: 'alert', oneOf: ['alert', 'ecs'] },
                  timeout_ms: { t: 'int', min: 100, max: 600_000, def: 10_000 },
                  ...FILTER_FIELDS,
                  ...RETRY_FIELDS,
                },
              },
            },
            syslog: {
              t: 'array',
              def: [],
              of: {
                t: 'object',
                required: true,
                fields: {
                  name: NAME,
                  transport: { t: 'string', def: 'udp', oneOf: ['udp', 'tcp', 'tls'] },
                  ca_file: { t: 'string', def: '' },
                  host: { t: 'string', pattern: /^\S+$/, patternHelp: 'a host name or address' },
                  port: { t: 'int', min: 1, max: 65535, def: 514 },
                  format: { t: 'string', def: 'cef', oneOf: ['cef', 'ecs_json'] },
                  // 16 = local0
                  facility: { t: 'int', min: 0, max: 23, def: 16 },
                  app_name: { t: 'string', def: 'goalkeeper', maxLen: 48, pattern: /^[\x21-\x7e]+$/, patternHelp: 'printable ASCII without spaces' },
                  // 32473 is the private enterprise number reserved for documentation (RFC 5612)
                  sd_id: { t: 'string', def: 'goalkeeper@32473', maxLen: 32, pattern: /^[\x21-\x7e]+$/, patternHelp: 'an SD-ID: printable ASCII without space, =, ] or "' },
                  timeout_ms: { t: 'int', min: 100, max: 600_000, def: 10_000 },
                  ...FILTER_FIELDS,
                  ...RETRY_FIELDS,
                },
              },
            },
          },
        },
      },
    },
    detect: DETECT_SCHEMA,
    web: {
      t: 'object',
      fields: {
        enabled: { t: 'bool', def: true },
        session_ttl_secs: { t: 'int', min: 60, max: 30 * 86400, def: 12 * 3600 },
        max_sessions: { t: 'int', min: 1, max: 100_000, def: 1000 },
      },
    },
    cluster: {
      t: 'object',
      fields: {
        enabled: { t: 'bool', def: false },
        nats_url: { t: 'string', def: 'nats://127.0.0.1:4222', pattern: /^(nats|tls):\/\/\S+$/, patternHelp: 'a nats:// or tls:// URL' },
        stream: { t: 'string', def: 'GOALKEEPER', maxLen: 64, pattern: /^[A-Za-z0-9_-]+$/, patternHelp: 'letters, digits, _ and -' },
        partitions: { t: 'int', min: 1, max: 1024, def: 16 },
        role: { t: 'string', def: 'both', oneOf: ['ingest', 'worker', 'both'] },
        lease_ttl_ms: { t: 'int', min: 500, max: 600_000, def: 5000 },
        max_backlog_msgs: { t: 'int', min: 0, max: 100_000_000, def: 2000 },
        replay_window_secs: { t: 'int', min: 0, max: 86_400, def: 600 },
        partition_store_dir: { t: 'string', def: '' },
      },
    },
    stix: {
      t: 'object',
      fields: {
        producer_name: { t: 'string', def: 'Goalkeeper collector', maxLen: 256, pattern: /\S/, patternHelp: 'a non-empty name' },
        producer_class: { t: 'string', def: 'organization', oneOf: ['organization', 'system', 'group', 'individual', 'class', 'unknown'] },
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
    case 'number': {
      if (value === undefined) {
        if (spec.def === undefined) throw invalid(`${where} is required`);
        return spec.def;
      }
      const int = spec.t === 'int';
      if (typeof value !== 'number' || !(int ? Number.isInteger(value) : Number.isFinite(value)) || value < spec.min || value > spec.max) {
        throw invalid(`${where} must be ${int ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max} (got ${JSON.stringify(value)})`);
      }
      return value;
    }
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

/** Cross-field checks of `detect` (the schema checks each key alone); resolves intel file paths. */
function checkDetect(d: DetectConfig, baseDir: string): void {
  d.threat_intel.sources.forEach((src, i) => {
    const at = `detect.threat_intel.sources[${i}]`;
    if ((src.path === '') === (src.url === '')) throw invalid(`${at}: give exactly one of "path" and "url"`);
    const s = src as { path: string; name: string };
    if (s.path) s.path = path.resolve(baseDir, s.path);
    if (!s.name) s.name = src.url || path.basename(s.path);
  });
  uniqueBy(d.threat_intel.sources, (s) => s.name, (i, k) => `detect.threat_intel.sources[${i}].name "${k}" is listed twice`);
  for (const [i, p] of d.local_networks.entries()) {
    const [addr, bits] = p.split('/');
    const max = addr.includes(':') ? 128 : 32;
    if (Number(bits) > max) throw invalid(`detect.local_networks[${i}]: prefix length ${bits} is over ${max}`);
  }
  if (d.trw.scanner_success_prob >= d.trw.benign_success_prob) {
    throw invalid('detect.trw.scanner_success_prob must be below detect.trw.benign_success_prob');
  }
}

/** store.postgres: url or the separate fields, not both; password_file resolved. */
function checkPostgres(pg: { url: string; password_file: string }, raw: unknown, baseDir: string): void {
  const given = ((raw as { store?: { postgres?: Record<string, unknown> } }).store?.postgres) ?? {};
  const parts = ['host', 'port', 'database', 'user'].filter((k) => given[k] !== undefined);
  if (pg.url && parts.length > 0) throw invalid(`store.postgres: give url or ${parts.join('/')}, not both`);
  if (pg.password_file) pg.password_file = path.resolve(baseDir, pg.password_file);
}

function checkRetry(r: RetryConfig, at: string): void {
  if (r.max_backoff_ms < r.initial_backoff_ms) throw invalid(`${at}.max_backoff_ms must not be below ${at}.initial_backoff_ms`);
}

/**
 * Validate a parsed config object. `baseDir` is where relative paths resolve (the config file's folder).
 * Throws CollectorError(COLL_ERR_CONFIG_INVALID) with a message naming the offending key.
 */
export function validateConfig(raw: unknown, baseDir: string): CollectorConfig {
  const cfg = check(SCHEMA, raw, '') as {
    store: { sqlite_path: string };
    auth: { agents: AgentCredential[]; subscribers: SubscriberCredential[]; operators: OperatorCredential[] };
  } & CollectorConfig;
  if (cfg.store.sqlite_path !== ':memory:') cfg.store.sqlite_path = path.resolve(baseDir, cfg.store.sqlite_path);
  checkPostgres(cfg.store.postgres as { url: string; password_file: string }, raw, baseDir);
  checkDetect(cfg.detect, baseDir);
  const cluster = cfg.cluster as { partition_store_dir: string };
  if (cluster.partition_store_dir) cluster.partition_store_dir = path.resolve(baseDir, cluster.partition_store_dir);
  // A collector's own SQLite file cannot hold the parts of one batch (they share its key) nor be seen by the other collectors.
  if (cfg.cluster.enabled && cfg.cluster.role !== 'ingest' && !cluster.partition_store_dir && cfg.store.kind !== 'postgres') {
    throw invalid('cluster: a worker (cluster.role "worker" or "both") stores into a PostgreSQL store shared by the cluster (store.kind "postgres") or into cluster.partition_store_dir; set one');
  }
  const tls = cfg.listen.tls as { -readonly [K in keyof ListenTlsConfig]: string };
  for (const k of ['cert_file', 'key_file', 'client_ca_file'] as const) if (tls[k]) tls[k] = path.resolve(baseDir, tls[k]);
  if (Boolean(tls.cert_file) !== Boolean(tls.key_file)) throw invalid('listen.tls.cert_file and listen.tls.key_file must be given together');
  if (tls.client_ca_file && !tls.cert_file) throw invalid('listen.tls.client_ca_file needs listen.tls.cert_file and key_file (mutual TLS is TLS)');
  for (const list of [cfg.auth.agents, cfg.auth.subscribers, cfg.auth.operators]) {
    for (const c of list) (c as { token_sha256: string }).token_sha256 = c.token_sha256.toLowerCase();
  }
  uniqueBy(cfg.auth.agents, (a) => a.agent_id, (i, k) => `auth.agents[${i}].agent_id "${k}" is listed twice`);
  uniqueBy(cfg.auth.subscribers, (s) => s.name, (i, k) => `auth.subscribers[${i}].name "${k}" is listed twice`);
  uniqueBy(cfg.auth.operators, (s) => s.name, (i, k) => `auth.operators[${i}].name "${k}" is listed twice`);
  uniqueBy(
    [...cfg.auth.agents, ...cfg.auth.subscribers, ...cfg.auth.operators],
    (c) => c.token_sha256,
    () => 'auth: the same token_sha256 is given to more than one agent/subscriber/operator',
  );
  for (const w of cfg.alerts.outputs.webhooks) (w as { secret_file: string }).secret_file = path.resolve(baseDir, w.secret_file);
  for (const s of cfg.alerts.outputs.syslog) if (s.ca_file) (s as { ca_file: string }).ca_file = path.resolve(baseDir, s.ca_file);
  const outputs = [...cfg.alerts.outputs.webhooks, ...cfg.alerts.outputs.syslog];
  uniqueBy(outputs, (o) => o.name, (_i, k) => `alerts.outputs: the output name "${k}" is used twice`);
  cfg.alerts.outputs.webhooks.forEach((o, i) => checkRetry(o, `alerts.outputs.webhooks[${i}]`));
  cfg.alerts.outputs.syslog.forEach((o, i) => checkRetry(o, `alerts.outputs.syslog[${i}]`));
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
