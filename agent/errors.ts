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
