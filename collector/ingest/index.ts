export { createHttpServer, type HttpServerHandle, type UpgradeRoute, type RejectUpgrade } from './http-server';
export { AgentEndpoint, type AgentEndpointOptions } from './agent-endpoint';
export { AgentHealth } from './agent-health';
export { AgentSession, type BatchReply, type IngestHandlers, ERROR_CODE_LABELS } from './agent-session';
export { TokenTable, sha256Hex, bearerToken } from './auth';
export { startKeepalive } from './keepalive';
export { decodeBatch, MIN_PLAUSIBLE_US, type ValidationLimits, type ValidationResult } from './validate';
export { readServerTls } from './tls-files';
export type { AgentAuthOutcome } from './agent-endpoint';
