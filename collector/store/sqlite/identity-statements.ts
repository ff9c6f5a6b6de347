// The enrolment tables of migration 2 (enrol_tokens, agent_credentials) on one SQLite connection:
// prepared statements plus the one transaction that turns a token into a credential. Used by
// SqliteStore; errors propagate to it (it wraps them as COLL_ERR_STORE_WRITE).
import type Database from 'better-sqlite3';
import { credentialFromDb, listingFromDb, tokenFromDb, type CredentialDbRow, type ListingDbRow, type TokenDbRow } from '../rows';
import type { AgentCredentialRow, AgentListing, EnrolTokenRow, RedeemResult } from '../store';

export class IdentityStatements {
  private readonly insertToken: Database.Statement;
  private readonly selectToken: Database.Statement;
  private readonly useToken: Database.Statement;
  private readonly selectCredential: Database.Statement;
  private readonly upsertCredential: Database.Statement;
  private readonly revokeCredential: Database.Statement;
  private readonly selectListing: Database.Statement;
  readonly redeem: (tokenId: string, credential: AgentCredentialRow) => RedeemResult;

  constructor(db: Database.Database) {
    this.insertToken = db.prepare(
      `INSERT INTO enrol_tokens (token_id, secret_sha256, name, created_us, expires_us, used_us, used_by)
       VALUES (@tokenId, @secretSha256, @name, @createdUs, @expiresUs, @usedUs, @usedBy)`,
    );
    this.selectToken = db.prepare('SELECT * FROM enrol_tokens WHERE token_id = ?');
    this.useToken = db.prepare('UPDATE enrol_tokens SET used_us = ?, used_by = ? WHERE token_id = ? AND used_us IS NULL AND expires_us > ?');
    this.selectCredential = db.prepare('SELECT * FROM agent_credentials WHERE agent_id = ?');
    this.upsertCredential = db.prepare(
      `INSERT INTO agent_credentials (agent_id, secret_sha256, token_id, enrolled_us, hostname, revoked_us)
       VALUES (@agentId, @secretSha256, @tokenId, @enrolledUs, @hostname, NULL)
       ON CONFLICT (agent_id) DO UPDATE SET secret_sha256 = excluded.secret_sha256, token_id = excluded.token_id,
         enrolled_us = excluded.enrolled_us, hostname = excluded.hostname, revoked_us = NULL`,
    );
    this.revokeCredential = db.prepare('UPDATE agent_credentials SET revoked_us = ? WHERE agent_id = ? AND revoked_us IS NULL');
    this.selectListing = db.prepare(
      `SELECT ids.id, c.*, a.last_seen_us, a.hostname AS seen_hostname, a.software_version
       FROM (SELECT agent_id AS id FROM agent_credentials UNION SELECT agent_id FROM agents) ids
       LEFT JOIN agent_credentials c ON c.agent_id = ids.id
       LEFT JOIN agents a ON a.agent_id = ids.id
       ORDER BY ids.id`,
    );
    // Both checks and both writes in one transaction: two agents racing for one token cannot both win.
    this.redeem = db.transaction((tokenId: string, c: AgentCredentialRow): RedeemResult => {
      const existing = this.credential(c.agentId);
      if (existing && existing.revokedUs === null) return 'agent_exists';
      if (this.useToken.run(c.enrolledUs, c.agentId, tokenId, c.enrolledUs).changes === 0) {
        const t = this.token(tokenId);
        return t && t.usedUs === null ? 'expired' : 'used';
      }
      this.upsertCredential.run(c);
      return 'ok';
    });
  }

  putToken(t: EnrolTokenRow): void {
    this.insertToken.run(t);
  }

  token(tokenId: string): EnrolTokenRow | undefined {
    const r = this.selectToken.get(tokenId) as TokenDbRow | undefined;
    return r && tokenFromDb(r);
  }

  credential(agentId: string): AgentCredentialRow | undefined {
    const r = this.selectCredential.get(agentId) as CredentialDbRow | undefined;
    return r && credentialFromDb(r);
  }

  revoke(agentId: string, nowUs: number): boolean {
    return this.revokeCredential.run(nowUs, agentId).changes > 0;
  }

  list(): AgentListing[] {
    return (this.selectListing.all() as ListingDbRow[]).map(listingFromDb);
  }
}
