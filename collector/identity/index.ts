export { Identity, type IdentityEvent } from './identity';
export { enrolHandler } from './enrol-route';
export { enrolCreate, agentsList, agentsRevoke } from './commands';
