// The enrolment tables (enrol_tokens, agent_credentials) on PostgreSQL: the same behaviour as
// sqlite/identity-statements.ts. Redeeming runs in one transaction that first takes an advisory lock on
// the agent id, so two enrolments racing for one id (through two collectors) cannot both win; the
// token's UPDATE ... WHERE used_us IS NULL makes a token single-use under concurrency by itself.
import type { Pool } from 'pg';
import { credentialFromDb, listingFromDb, tokenFromDb, type CredentialDbRow, type ListingDbRow, type TokenDbRow } from '../rows';
import type { AgentCredentialRow, AgentListing, EnrolTokenRow, RedeemResult } from '../store';
import { inTransaction } from './transaction';

/** Advisory lock class (first key) for per-agent-id enrolment locks; the second key is hashtext(agent_id). */
const ENROL_LOCK_CLASS = 0x676b_656e; // 'gken'

export class IdentityQueries {
  constructor(private readonly pool: Pool) {}

  async putToken(t: EnrolTokenRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO enrol_tokens (token_id, secret_sha256, name, created_us, expires_us, used_us, used_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [t.tokenId, t.secretSha256, t.name, t.createdUs, t.expiresUs, t.usedUs, t.usedBy],
    );
  }

  async token(tokenId: string): Promise<EnrolTokenRow | undefined> {
    const { rows } = await this.pool.query<TokenDbRow>('SELECT * FROM enrol_tokens WHERE token_id = $1', [tokenId]);
    return rows[0] && tokenFromDb(rows[0]);
  }

  async credential(agentId: string): Promise<AgentCredentialRow | undefined> {
    const { rows } = await this.pool.query<CredentialDbRow>('SELECT * FROM agent_credentials WHERE agent_id = $1', [agentId]);
    return rows[0] && credentialFromDb(rows[0]);
  }

  redeem(tokenId: string, c: AgentCredentialRow): Promise<RedeemResult> {
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ENROL_LOCK_CLASS, c.agentId]);
      const existing = await client.query<{ revoked_us: number | null }>(
        'SELECT revoked_us FROM agent_credentials WHERE agent_id = $1', [c.agentId],
      );
      if (existing.rows.length > 0 && existing.rows[0].revoked_us === null) return 'agent_exists';
      const used = await client.query(
        'UPDATE enrol_tokens SET used_us = $1, used_by = $2 WHERE token_id = $3 AND used_us IS NULL AND expires_us > $1',
        [c.enrolledUs, c.agentId, tokenId],
      );
      if (used.rowCount === 0) {
        const t = await client.query<{ used_us: number | null }>('SELECT used_us FROM enrol_tokens WHERE token_id = $1', [tokenId]);
        return t.rows.length > 0 && t.rows[0].used_us === null ? 'expired' : 'used';
      }
      await client.query(
        `INSERT INTO agent_credentials (agent_id, secret_sha256, token_id, enrolled_us, hostname, revoked_us)
         VALUES ($1, $2, $3, $4, $5, NULL)
         ON CONFLICT (agent_id) DO UPDATE SET secret_sha256 = excluded.secret_sha256, token_id = excluded.token_id,
           enrolled_us = excluded.enrolled_us, hostname = excluded.hostname, revoked_us = NULL`,
        [c.agentId, c.secretSha256, c.tokenId, c.enrolledUs, c.hostname],
      );
      return 'ok';
    });
  }

  async revoke(agentId: string, nowUs: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE agent_credentials SET revoked_us = $1 WHERE agent_id = $2 AND revoked_us IS NULL', [nowUs, agentId]);
    return (r.rowCount ?? 0) > 0;
  }

  async list(): Promise<AgentListing[]> {
    const { rows } = await this.pool.query<ListingDbRow>(
      `SELECT ids.id, c.*, a.last_seen_us, a.hostname AS seen_hostname, a.software_version
       FROM (SELECT agent_id AS id FROM agent_credentials UNION SELECT agent_id FROM agents) ids
       LEFT JOIN agent_credentials c ON c.agent_id = ids.id
       LEFT JOIN agents a ON a.agent_id = ids.id
       ORDER BY ids.id COLLATE "C"`,
    );
    return rows.map(listingFromDb);
  }
}
