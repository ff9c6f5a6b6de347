// Operator sessions for the dashboard. An operator logs in with their token (config auth.operators,
// stored as sha256); the collector answers with a session cookie:
//
//   gk_session=<32 random bytes, base64url>; HttpOnly; SameSite=Strict; Path=/; Max-Age=<ttl>
//
// HttpOnly keeps it from page scripts, SameSite=Strict from every cross-site request (so no CSRF on
// the POST routes, and no cross-site WebSocket). Sessions live in memory, keyed by the sha256 of the
// cookie value, bounded by web.max_sessions (the oldest is forgotten first) and expire after
// web.session_ttl_secs; a collector restart logs everyone out. Scripts may skip the cookie and send
// `Authorization: Bearer <operator token>` on every request instead.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'gk_session';

export interface Operator {
  readonly name: string;
}

interface Session {
  operator: Operator;
  expiresAtMs: number;
}

function digest(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** The value of one cookie from the Cookie header, undefined when absent. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxSessions: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A new session for `operator`; returns the cookie value (never stored as such). */
  create(operator: Operator): string {
    const value = randomBytes(32).toString('base64url');
    while (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(digest(value), { operator, expiresAtMs: this.nowMs() + this.ttlMs });
    return value;
  }

  lookup(value: string | undefined): Operator | undefined {
    if (!value || value.length > 100) return undefined;
    const key = digest(value);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    if (s.expiresAtMs <= this.nowMs()) {
      this.sessions.delete(key);
      return undefined;
    }
    return s.operator;
  }

  delete(value: string | undefined): void {
    if (value) this.sessions.delete(digest(value));
  }

  cookie(value: string, secure: boolean): string {
    return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.ttlMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  static clearCookie(): string {
    return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }
}
