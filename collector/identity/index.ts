export { Identity, type IdentityEvent, type AuthOutcome, type NewToken, type Enrolled } from './identity';
export { enrolHandler } from './enrol-route';
export { AGENT_ID_PATTERN, CREDENTIAL_PREFIX, TOKEN_PREFIX } from './secrets';
export { enrolCreate, agentsList, agentsRevoke } from './commands';
