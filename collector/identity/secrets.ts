// Secret strings handed out by enrolment and how they are checked. Only sha256 digests are stored:
// the secrets are 256 random bits, so a plain hash is as good as a slow one here (nobody can guess
// the preimage), and checking costs one hash. Comparison is crypto.timingSafeEqual on the digests.
//
//   enrolment token   gke1.<token_id: 16 hex>.<secret: 43 base64url>
//   agent credential  gka1.<agent_id>.<secret: 43 base64url>   (agent ids never end in a base64url-only part
//                     after their last '.', so the secret is what follows the last '.')
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'gke1.';
export const CREDENTIAL_PREFIX = 'gka1.';
/** The agent ids the collector accepts from enrolment (the agent's own config check is the same). */
export const AGENT_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function digestHex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** True when sha256(secret) equals the stored hex digest; constant time in the secret. */
export function secretMatches(secret: string, storedSha256Hex: string): boolean {
  const a = createHash('sha256').update(secret, 'utf8').digest();
  const b = Buffer.from(storedSha256Hex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `prefix<id>.<secret>` → { id, secret }, or undefined when the string is not of that shape. */
export function splitSecretString(s: string, prefix: string): { id: string; secret: string } | undefined {
  if (!s.startsWith(prefix)) return undefined;
  const dot = s.lastIndexOf('.');
  if (dot <= prefix.length - 1) return undefined;
  const id = s.slice(prefix.length, dot);
  const secret = s.slice(dot + 1);
  if (!id || !SECRET_PATTERN.test(secret)) return undefined;
  return { id, secret };
}
