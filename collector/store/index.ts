export type { AgentView, AlertFilter, AlertQuery, AuditEntry, BatchPartRecord, ClusterAlertResult, FlowView, Store, TalkerRow, TrafficBucket } from './store';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store';
export { SCHEMA_VERSION } from './sqlite/schema';
export { PostgresStore, type PostgresStoreOptions } from './postgres/postgres-store';
export { openStore, type OpenStoreOptions } from './open';
