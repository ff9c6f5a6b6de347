// The Store interface. Every method returns a Promise so that a server database (PostgreSQL) can
// implement it later without changing callers; the SQLite implementation answers synchronously inside.
//
// Contract for putBatch: the batch row and all its flows are written in ONE transaction. When the
// promise resolves with 'stored' the transaction has committed (durably, per the implementation's
// sync setting) and the caller may acknowledge the batch. 'duplicate' means (agentId, bootId, seq) was
// already stored; nothing was written. A rejected promise means nothing was written. A stored batch
// also advances the agent's last_seen_us, in the same transaction.
import type { Alert, AgentUpdate, BatchRecord, NewAlert, PutBatchResult } from '../model';

export interface Store {
  putBatch(batch: BatchRecord): Promise<PutBatchResult>;
  /** Stores the alert, assigning its id (monotonic, never reused) and `ts` (wall clock, seconds). */
  putAlert(alert: NewAlert, tsSecs: number): Promise<Alert>;
  /** Stored alerts with id > afterId, oldest first, at most `limit`. */
  alertsSince(afterId: number, limit: number): Promise<Alert[]>;
  touchAgent(update: AgentUpdate): Promise<void>;
  close(): Promise<void>;
}
