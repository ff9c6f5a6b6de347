// Every error the agent reports carries a stable code (listed in docs/errors.md).

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
} as const;

export type AgentErrorCodeValue = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export class AgentError extends Error {
  readonly code: AgentErrorCodeValue;
  constructor(code: AgentErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}
