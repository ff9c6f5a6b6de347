// Agent identity: one-time enrolment tokens, the credentials agents get for them, revocation, and the
// bearer-credential check the agent endpoint runs at every upgrade. Static config credentials
// (auth.agents, TokenTable) keep working beside enrolled ones.
//
// Every change of identity state goes through record(): the one place an audit trail hooks in.
import { randomBytes } from 'node:crypto';
import { CollectorError, CollectorErrorCode } from '../errors';
import type { AgentIdentity } from '../model';
import type { Store } from '../store';
import type { AgentAuthOutcome, TokenTable } from '../ingest';
import {
  AGENT_ID_PATTERN, CREDENTIAL_PREFIX, digestHex, newSecret, secretMatches, splitSecretString, TOKEN_PREFIX,
} from './secrets';

/** What happened to an identity, for an audit trail. `at_us` is wall-clock µs. */
export type IdentityEvent =
  | { kind: 'token_created'; at_us: number; token_id: string; name: string; expires_us: number }
  | { kind: 'enrolled'; at_us: number; token_id: string; agent_id: string; hostname: string; remote: string }
  | { kind: 'enrol_refused'; at_us: number; token_id: string; code: string; remote: string }
  | { kind: 'revoked'; at_us: number; agent_id: string };

export interface IdentityOptions {
  store: Store;
  /** auth.agents from the config: ids taken by static credentials cannot be enrolled */
  staticTokens: TokenTable<AgentIdentity>;
  staticAgentIds: ReadonlySet<string>;
  onEvent?: (e: IdentityEvent) => void;
  nowUs?: () => number;
}

export interface NewToken {
  /** shown once; only its digest is stored */
  token: string;
  tokenId: string;
  name: string;
  expiresUs: number;
}

export interface EnrolRequest {
  token: string;
  /** the id the agent asks for ('' = whatever the token says, else a generated one) */
  agentId: string;
  hostname: string;
  /** remote address, for the audit trail */
  remote: string;
}

export interface Enrolled {
  agentId: string;
  /** the agent's bearer credential; shown once */
  credential: string;
}

const MAX_TTL_SECS = 365 * 86400;

function refuse(code: (typeof CollectorErrorCode)[keyof typeof CollectorErrorCode], message: string): CollectorError {
  return new CollectorError(code, message);
}

export class Identity {
  private readonly nowUs: () => number;

  constructor(private readonly opts: IdentityOptions) {
    this.nowUs = opts.nowUs ?? (() => Date.now() * 1000);
  }

  /** The one place identity events leave this module (audit trail hook). */
  private record(e: IdentityEvent): void {
    this.opts.onEvent?.(e);
  }

  async createToken(opts: { name?: string; ttlSecs: number }): Promise<NewToken> {
    const name = opts.name ?? '';
    if (name && !AGENT_ID_PATTERN.test(name)) {
      throw refuse(CollectorErrorCode.USAGE, `--name "${name}" must be 1–64 letters, digits, '.', '_' or '-' (it becomes the agent id)`);
    }
    if (!Number.isInteger(opts.ttlSecs) || opts.ttlSecs < 1 || opts.ttlSecs > MAX_TTL_SECS) {
      throw refuse(CollectorErrorCode.USAGE, `--ttl-secs must be an integer from 1 to ${MAX_TTL_SECS}`);
    }
    if (name && this.opts.staticAgentIds.has(name)) {
      throw refuse(CollectorErrorCode.ENROL_AGENT_EXISTS, `agent id "${name}" has a static credential in auth.agents`);
    }
    const tokenId = randomBytes(8).toString('hex');
    const secret = newSecret();
    const now = this.nowUs();
    const expiresUs = now + opts.ttlSecs * 1e6;
    await this.opts.store.putEnrolToken({
      tokenId, secretSha256: digestHex(secret), name, createdUs: now, expiresUs, usedUs: null, usedBy: null,
    });
    this.record({ kind: 'token_created', at_us: now, token_id: tokenId, name, expires_us: expiresUs });
    return { token: `${TOKEN_PREFIX}${tokenId}.${secret}`, tokenId, name, expiresUs };
  }

  /** Exchanges a one-time token for a credential. Throws CollectorError(COLL_ERR_ENROL_*) when refused. */
  async enrol(req: EnrolRequest): Promise<Enrolled> {
    const now = this.nowUs();
    const parts = splitSecretString(req.token, TOKEN_PREFIX);
    const tokenId = parts?.id ?? '';
    try {
      const row = parts ? await this.opts.store.enrolToken(parts.id) : undefined;
      // The secret is checked even for an unknown id, so both cost the same.
      const secretOk = secretMatches(parts?.secret ?? '', row?.secretSha256 ?? '0'.repeat(64));
      if (!row || !secretOk) throw refuse(CollectorErrorCode.ENROL_TOKEN_INVALID, 'unknown enrolment token');
      if (row.usedUs !== null) throw refuse(CollectorErrorCode.ENROL_TOKEN_USED, `enrolment token ${row.tokenId} was already used`);
      if (row.expiresUs <= now) throw refuse(CollectorErrorCode.ENROL_TOKEN_EXPIRED, `enrolment token ${row.tokenId} has expired`);
      if (row.name && req.agentId && req.agentId !== row.name) {
        throw refuse(CollectorErrorCode.ENROL_AGENT_EXISTS, `this token is for agent "${row.name}", not "${req.agentId}"`);
      }
      const agentId = row.name || req.agentId || `agent-${randomBytes(4).toString('hex')}`;
      if (this.opts.staticAgentIds.has(agentId)) {
        throw refuse(CollectorErrorCode.ENROL_AGENT_EXISTS, `agent id "${agentId}" has a static credential in auth.agents`);
      }
      const secret = newSecret();
      const result = await this.opts.store.redeemEnrolToken(row.tokenId, {
        agentId, secretSha256: digestHex(secret), tokenId: row.tokenId, enrolledUs: now, hostname: req.hostname, revokedUs: null,
      });
      if (result === 'agent_exists') throw refuse(CollectorErrorCode.ENROL_AGENT_EXISTS, `agent "${agentId}" is enrolled already (revoke it first)`);
      if (result === 'used') throw refuse(CollectorErrorCode.ENROL_TOKEN_USED, `enrolment token ${row.tokenId} was already used`);
      if (result === 'expired') throw refuse(CollectorErrorCode.ENROL_TOKEN_EXPIRED, `enrolment token ${row.tokenId} has expired`);
      this.record({ kind: 'enrolled', at_us: now, token_id: row.tokenId, agent_id: agentId, hostname: req.hostname, remote: req.remote });
      return { agentId, credential: `${CREDENTIAL_PREFIX}${agentId}.${secret}` };
    } catch (err) {
      if (err instanceof CollectorError && err.code !== CollectorErrorCode.STORE_WRITE) {
        this.record({ kind: 'enrol_refused', at_us: now, token_id: tokenId, code: err.code, remote: req.remote });
      }
      throw err;
    }
  }

  async revoke(agentId: string): Promise<void> {
    const now = this.nowUs();
    if (!(await this.opts.store.revokeAgentCredential(agentId, now))) {
      const hint = this.opts.staticAgentIds.has(agentId) ? ' (it has a static credential: remove it from auth.agents)' : '';
      throw refuse(CollectorErrorCode.AGENT_UNKNOWN, `no enrolled, unrevoked agent "${agentId}"${hint}`);
    }
    this.record({ kind: 'revoked', at_us: now, agent_id: agentId });
  }

  /** The agent a bearer credential belongs to: a static config token, or an enrolled credential. */
  async authenticate(bearer: string | undefined): Promise<AgentAuthOutcome> {
    const fixed = this.opts.staticTokens.lookup(bearer);
    if (fixed) return { identity: fixed };
    const parts = bearer ? splitSecretString(bearer, CREDENTIAL_PREFIX) : undefined;
    if (!parts) return { refused: 'unknown' };
    const row = await this.opts.store.agentCredential(parts.id);
    if (!secretMatches(parts.secret, row?.secretSha256 ?? '0'.repeat(64)) || !row) return { refused: 'unknown' };
    if (row.revokedUs !== null) return { refused: 'revoked' };
    return { identity: { agentId: row.agentId, credentialId: row.tokenId } };
  }

  /**
   * Is the credential a connection was opened with still the agent's, unrevoked? For open connections,
   * after a revocation (or a revocation and re-enrolment) by another process (the CLI).
   */
  async stillValid(who: AgentIdentity): Promise<boolean> {
    if (who.credentialId === undefined) return this.opts.staticAgentIds.has(who.agentId);
    const row = await this.opts.store.agentCredential(who.agentId);
    return row !== undefined && row.revokedUs === null && row.tokenId === who.credentialId;
  }
}
