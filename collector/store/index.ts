export type { Store } from './store';
export { SqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store';
export { SCHEMA_VERSION } from './sqlite/schema';
