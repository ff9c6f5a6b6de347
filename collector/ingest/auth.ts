// Bearer-token credentials. Config stores sha256(token) in hex, never the token. A presented token is
// hashed and compared with every configured hash using crypto.timingSafeEqual (no early exit), so
// neither the match nor its position leaks through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class TokenTable<T> {
  private readonly entries: Array<{ digest: Buffer; value: T }>;

  constructor(entries: ReadonlyArray<{ tokenSha256: string; value: T }>) {
    this.entries = entries.map((e) => ({ digest: Buffer.from(e.tokenSha256.toLowerCase(), 'hex'), value: e.value }));
  }

  lookup(token: string | undefined): T | undefined {
    if (!token) return undefined;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: T | undefined;
    for (const e of this.entries) {
      if (e.digest.length === digest.length && timingSafeEqual(e.digest, digest)) found = e.value;
    }
    return found;
  }
}

/** The token from `Authorization: Bearer <token>`, else (when allowed) from `?token=`. */
export function bearerToken(req: IncomingMessage, url: URL, allowQuery: boolean): string | undefined {
  const h = req.headers.authorization;
  if (typeof h === 'string') {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(h);
    if (m) return m[1];
  }
  if (allowQuery) return url.searchParams.get('token') ?? undefined;
  return undefined;
}
