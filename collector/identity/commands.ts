// The operator's identity commands (collector/main.ts parses the command line and opens the store):
//
//   enrol create   make a one-time token; the token is printed once, on stdout, and never stored
//   agents list    every known agent: how it authenticates, enrolment, revocation, last seen (JSON lines)
//   agents revoke  revoke an enrolled agent's credential; its open connection is cut within
//                  auth.revocation_check_secs by a running collector
import type { CollectorConfig } from '../config';
import type { Store } from '../store';
import type { Identity } from './identity';

function iso(us: number | null): string | null {
  return us === null ? null : new Date(us / 1000).toISOString();
}

export async function enrolCreate(identity: Identity, opts: { name?: string; ttlSecs: number }, out: (line: string) => void): Promise<void> {
  const t = await identity.createToken(opts);
  out(t.token);
}

export async function agentsList(cfg: CollectorConfig, store: Store, out: (line: string) => void): Promise<void> {
  const known = new Map((await store.listAgents()).map((a) => [a.agentId, a]));
  const ids = new Set([...cfg.auth.agents.map((a) => a.agent_id), ...known.keys()]);
  for (const id of [...ids].sort()) {
    const a = known.get(id);
    const c = a?.credential ?? null;
    const isStatic = cfg.auth.agents.some((s) => s.agent_id === id);
    out(JSON.stringify({
      agent_id: id,
      credential: isStatic ? 'config' : c ? 'enrolled' : 'none',
      state: isStatic || (c && c.revokedUs === null) ? 'active' : c ? 'revoked' : 'unknown',
      enrolled_at: iso(c?.enrolledUs ?? null),
      revoked_at: iso(c?.revokedUs ?? null),
      enrol_token_id: c?.tokenId ?? null,
      last_seen: iso(a?.lastSeenUs ?? null),
      hostname: a?.hostname ?? c?.hostname ?? null,
      software_version: a?.softwareVersion ?? null,
    }));
  }
}

export async function agentsRevoke(identity: Identity, agentId: string, out: (line: string) => void): Promise<void> {
  await identity.revoke(agentId);
  out(JSON.stringify({ event: 'revoked', agent_id: agentId }));
}
