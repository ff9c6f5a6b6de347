// Every error the agent reports carries a stable code, listed in docs/agent.md
// (test/agent/errors.test.ts keeps this table and the doc in step).

export const AgentErrorCode = {
  CONFIG_INVALID: 'AGENT_ERR_CONFIG_INVALID',
  CONFIG_UNREADABLE: 'AGENT_ERR_CONFIG_UNREADABLE',
  FILE_UNREADABLE: 'AGENT_ERR_FILE_UNREADABLE',
  FILE_FORMAT: 'AGENT_ERR_FILE_FORMAT',
  INTERFACE: 'AGENT_ERR_INTERFACE',
  BPF_FILTER: 'AGENT_ERR_BPF_FILTER',
  COLLECTOR_UNREACHABLE: 'AGENT_ERR_COLLECTOR_UNREACHABLE',
  COLLECTOR_REJECTED: 'AGENT_ERR_COLLECTOR_REJECTED',
  OUTPUT: 'AGENT_ERR_OUTPUT',
  TLS_CONFIG: 'AGENT_ERR_TLS_CONFIG',
  TLS_PIN_MISMATCH: 'AGENT_ERR_TLS_PIN_MISMATCH',
  TLS_HANDSHAKE: 'AGENT_ERR_TLS_HANDSHAKE',
  ENROL_REFUSED: 'AGENT_ERR_ENROL_REFUSED',
  CREDENTIAL_FILE: 'AGENT_ERR_CREDENTIAL_FILE',
  METRICS_LISTEN: 'AGENT_ERR_METRICS_LISTEN',
  SPOOL: 'AGENT_ERR_SPOOL',
  SPOOL_LOCKED: 'AGENT_ERR_SPOOL_LOCKED',
} as const;

export type AgentErrorCodeValue = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

/** One line per code: what it means. docs/agent.md must list every code. */
export const AGENT_ERROR_DESCRIPTIONS: Record<AgentErrorCodeValue, string> = {
  AGENT_ERR_CONFIG_INVALID: 'the configuration (file or flags) does not match the schema: unknown option, wrong type, out of range, missing source or destination',
  AGENT_ERR_CONFIG_UNREADABLE: 'the config file or token file cannot be read',
  AGENT_ERR_FILE_UNREADABLE: 'the capture file cannot be opened (missing, permissions, a directory)',
  AGENT_ERR_FILE_FORMAT: 'the capture file is not pcap or pcapng (bad magic or header); the message gives the byte offset',
  AGENT_ERR_INTERFACE: 'libpcap cannot capture on the interface (no such device, no permission); the message lists the interfaces there are',
  AGENT_ERR_BPF_FILTER: 'libpcap rejected the BPF filter expression',
  AGENT_ERR_COLLECTOR_UNREACHABLE: 'no connection to the collector (refused, timed out, closed); the agent keeps its batches and retries',
  AGENT_ERR_COLLECTOR_REJECTED: 'the collector refused this agent (HTTP 401/403: wrong token; or agent id / protocol mismatch)',
  AGENT_ERR_OUTPUT: 'the JSON-lines output cannot be written',
  AGENT_ERR_TLS_CONFIG: 'a collector.tls file (CA, client certificate, key) cannot be read or is not valid PEM',
  AGENT_ERR_TLS_PIN_MISMATCH: "the collector's certificate does not match collector.tls.pin_sha256; nothing was sent to it",
  AGENT_ERR_TLS_HANDSHAKE: "TLS with the collector failed: its certificate is not trusted (collector.tls.ca_file) or names another host, or it refused this agent's client certificate",
  AGENT_ERR_ENROL_REFUSED: 'the collector refused the enrolment token (unknown, used, expired, or the agent id is taken); the message carries its COLL_ERR_* code',
  AGENT_ERR_CREDENTIAL_FILE: 'collector.credential_file cannot be read, parsed or written, or is readable by other users (it must be mode 0600)',
  AGENT_ERR_METRICS_LISTEN: 'the /metrics and /healthz server cannot listen on metrics.listen (address in use, not local)',
  AGENT_ERR_SPOOL: 'the disk spool cannot be created, written or read (permissions, disk full); a batch that cannot be written is counted as dropped',
  AGENT_ERR_SPOOL_LOCKED: 'another running process holds the spool directory (its pid is in the lock file); give each agent its own spool.dir',
};

export class AgentError extends Error {
  readonly code: AgentErrorCodeValue;
  constructor(code: AgentErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}
