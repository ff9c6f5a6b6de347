// The Store interface. Every method returns a Promise so that a server database (PostgreSQL) can
// implement it later without changing callers; the SQLite implementation answers synchronously inside.
//
// Contract for putBatch: the batch row and all its flows are written in ONE transaction. When the
// promise resolves with 'stored' the transaction has committed (durably, per the implementation's
// sync setting) and the caller may acknowledge the batch. 'duplicate' means (agentId, bootId, seq) was
// already stored; nothing was written. A rejected promise means nothing was written. A stored batch
// also advances the agent's last_seen_us, in the same transaction.
import type { Alert, AgentUpdate, BatchRecord, NewAlert, PutBatchResult } from '../model';

/** A one-time enrolment token as stored: only the digest of its secret. */
export interface EnrolTokenRow {
  tokenId: string;
  secretSha256: string;
  /** the agent id the token is for; '' lets the agent choose (or be given a generated one) */
  name: string;
  createdUs: number;
  expiresUs: number;
  usedUs: number | null;
  usedBy: string | null;
}

/** A credential issued by enrolment. */
export interface AgentCredentialRow {
  agentId: string;
  secretSha256: string;
  tokenId: string;
  enrolledUs: number;
  hostname: string;
  revokedUs: number | null;
}

/** An agent the store knows of: enrolled, seen, or both. */
export interface AgentListing {
  agentId: string;
  credential: AgentCredentialRow | null;
  lastSeenUs: number | null;
  hostname: string | null;
  softwareVersion: string | null;
}

/**
 * What redeeming a token did. 'ok': the token is now used and the credential stored, in one
 * transaction. 'used' / 'expired': the token cannot be used (nothing written). 'agent_exists': the agent
 * id already holds a credential that is not revoked (nothing written).
 */
export type RedeemResult = 'ok' | 'used' | 'expired' | 'agent_exists';

export interface Store {
  putBatch(batch: BatchRecord): Promise<PutBatchResult>;
  /** Stores the alert, assigning its id (monotonic, never reused) and `ts` (wall clock, seconds). */
  putAlert(alert: NewAlert, tsSecs: number): Promise<Alert>;
  /** Stored alerts with id > afterId, oldest first, at most `limit`. */
  alertsSince(afterId: number, limit: number): Promise<Alert[]>;
  touchAgent(update: AgentUpdate): Promise<void>;
  putEnrolToken(token: EnrolTokenRow): Promise<void>;
  enrolToken(tokenId: string): Promise<EnrolTokenRow | undefined>;
  /** Marks the token used by credential.agentId and stores the credential (replacing a revoked one). */
  redeemEnrolToken(tokenId: string, credential: AgentCredentialRow): Promise<RedeemResult>;
  agentCredential(agentId: string): Promise<AgentCredentialRow | undefined>;
  /** false when the agent has no credential or it is revoked already */
  revokeAgentCredential(agentId: string, nowUs: number): Promise<boolean>;
  /** Every enrolled or seen agent, by id. */
  listAgents(): Promise<AgentListing[]>;
  close(): Promise<void>;
}
