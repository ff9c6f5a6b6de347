// Every error the collector reports to an operator carries a stable code (listed in docs/collector.md;
// test/collector/errors.test.ts keeps this table and the doc in step).
//
// Wire-level problems (bad frames, invalid batches) are not exceptions: they become a protobuf Error
// code for the agent plus a counter, see ingest/.

export const CollectorErrorCode = {
  USAGE: 'COLL_ERR_USAGE',
  CONFIG_UNREADABLE: 'COLL_ERR_CONFIG_UNREADABLE',
  CONFIG_INVALID: 'COLL_ERR_CONFIG_INVALID',
  LISTEN: 'COLL_ERR_LISTEN',
  STORE_OPEN: 'COLL_ERR_STORE_OPEN',
  STORE_SCHEMA: 'COLL_ERR_STORE_SCHEMA',
  STORE_WRITE: 'COLL_ERR_STORE_WRITE',
  SUBSCRIBER_REJECTED: 'COLL_ERR_SUBSCRIBER_REJECTED',
  TLS_FILES: 'COLL_ERR_TLS_FILES',
  ENROL_BAD_REQUEST: 'COLL_ERR_ENROL_BAD_REQUEST',
  ENROL_TOKEN_INVALID: 'COLL_ERR_ENROL_TOKEN_INVALID',
  ENROL_TOKEN_USED: 'COLL_ERR_ENROL_TOKEN_USED',
  ENROL_TOKEN_EXPIRED: 'COLL_ERR_ENROL_TOKEN_EXPIRED',
  ENROL_AGENT_EXISTS: 'COLL_ERR_ENROL_AGENT_EXISTS',
  AGENT_UNKNOWN: 'COLL_ERR_AGENT_UNKNOWN',
  CLUSTER_BUS: 'COLL_ERR_CLUSTER_BUS',
} as const;

export type CollectorErrorCodeValue = (typeof CollectorErrorCode)[keyof typeof CollectorErrorCode];

/** One line per code: what it means. docs/collector.md must list every code. */
export const COLLECTOR_ERROR_DESCRIPTIONS: Record<CollectorErrorCodeValue, string> = {
  COLL_ERR_USAGE: 'bad command line (unknown command or option, missing value)',
  COLL_ERR_CONFIG_UNREADABLE: 'the config file cannot be read or is not JSON',
  COLL_ERR_CONFIG_INVALID: 'the config does not match the schema (unknown key, wrong type, out of range)',
  COLL_ERR_LISTEN: 'the HTTP server cannot listen on the configured host:port',
  COLL_ERR_STORE_OPEN: 'the store cannot be opened: the SQLite file cannot be opened or configured, or the PostgreSQL server refuses the connection',
  COLL_ERR_STORE_SCHEMA: 'the store (SQLite file or PostgreSQL database) has a schema version newer than this collector understands, or a migration failed',
  COLL_ERR_STORE_WRITE: 'a write to the store failed (the batch is not stored and not acknowledged)',
  COLL_ERR_SUBSCRIBER_REJECTED: 'the alerts subscriber was refused by the collector (bad token or request)',
  COLL_ERR_TLS_FILES: 'a listen.tls file (certificate, key, client CA) cannot be read or is not valid PEM',
  COLL_ERR_ENROL_BAD_REQUEST: 'POST /v1/enrol: the body is not a JSON object with a token (or is too large), or agent_id / hostname is malformed',
  COLL_ERR_ENROL_TOKEN_INVALID: 'the enrolment token is unknown or its secret is wrong',
  COLL_ERR_ENROL_TOKEN_USED: 'the enrolment token was already used (tokens are one-time)',
  COLL_ERR_ENROL_TOKEN_EXPIRED: 'the enrolment token is past its expiry (enrol create --ttl-secs)',
  COLL_ERR_ENROL_AGENT_EXISTS: 'the agent id is taken (an active credential or a static auth.agents entry), or differs from the id the token was made for',
  COLL_ERR_AGENT_UNKNOWN: 'agents revoke: no enrolled, unrevoked agent with that id',
  COLL_ERR_CLUSTER_BUS: 'cluster mode: NATS cannot be reached, or its JetStream streams / lease bucket cannot be created',
};

export class CollectorError extends Error {
  readonly code: CollectorErrorCodeValue;
  constructor(code: CollectorErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CollectorError';
    this.code = code;
  }
}

export function isCollectorError(err: unknown): err is CollectorError {
  return err instanceof CollectorError;
}

/** Message of anything thrown, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
