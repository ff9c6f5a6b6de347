// The agent's identity towards the collector: a static token (collector.token / token_file), or the
// credential bought once with a one-time enrolment token and kept in collector.credential_file.
//
//   credential_file exists          → use it (it must be mode 0600, like an ssh key)
//   else enrol_token is set         → POST <collector>/v1/enrol {token, agent_id, hostname}, write the
//                                     answer to credential_file (0600, written whole then renamed), use it
//   else                            → the static token
//
// Enrolment retries while the collector is unreachable (capped backoff); a refusal (used, expired,
// unknown token; id taken) is final: AGENT_ERR_ENROL_REFUSED with the collector's COLL_ERR_* code.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { hostname } from 'node:os';
import { AgentError, AgentErrorCode } from '../errors';
import { Backoff } from './backoff';
import { httpsRequestOptions, tlsFailure, type ClientTlsOptions } from './tls-options';

export interface AgentCredential {
  agentId: string;
  /** the bearer credential sent at every connection */
  token: string;
}

export interface IdentitySettings {
  /** config agent_id ('' = whatever the collector assigns) */
  readonly agentId: string;
  /** ws:// or wss:// agent endpoint */
  readonly url: string;
  readonly token: string;
  readonly enrolToken: string;
  readonly credentialFile: string;
  readonly connectTimeoutMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
}

interface CredentialFile {
  agent_id: string;
  credential: string;
  collector_url: string;
  enrolled_at: string;
}

function fileError(file: string, message: string, cause?: unknown): AgentError {
  return new AgentError(AgentErrorCode.CREDENTIAL_FILE, `collector.credential_file ${file}: ${message}`, { cause });
}

function readCredentialFile(file: string): AgentCredential {
  const mode = statSync(file).mode;
  if ((mode & 0o077) !== 0) throw fileError(file, `is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  let v: Partial<CredentialFile>;
  try {
    v = JSON.parse(readFileSync(file, 'utf8')) as Partial<CredentialFile>;
  } catch (err) {
    throw fileError(file, `not readable JSON: ${(err as Error).message}`, err);
  }
  if (typeof v.agent_id !== 'string' || typeof v.credential !== 'string' || !v.agent_id || !v.credential) {
    throw fileError(file, 'needs "agent_id" and "credential" strings');
  }
  return { agentId: v.agent_id, token: v.credential };
}

/** Written whole to a 0600 temp file, synced, then renamed: a crash leaves the old file or the new one. */
function writeCredentialFile(file: string, content: CredentialFile): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(content, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    throw fileError(file, `cannot write it: ${(err as Error).message}`, err);
  }
}

/** http(s)://host:port/v1/enrol for a ws(s):// agent endpoint URL. */
export function enrolUrl(agentUrl: string): URL {
  const u = new URL(agentUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/v1/enrol';
  u.search = '';
  return u;
}

type Attempt = { ok: true; credential: AgentCredential } | { ok: false; retry: boolean; error: AgentError };

function postEnrol(s: IdentitySettings, tls: ClientTlsOptions): Promise<Attempt> {
  const url = enrolUrl(s.url);
  const body = JSON.stringify({ token: s.enrolToken, agent_id: s.agentId, hostname: hostname() });
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve) => {
    // TLS failures are final (retrying cannot fix a wrong pin or CA); anything else is retried.
    const unreachable = (err: Error & { code?: string }): void => {
      const tlsErr = tlsFailure(err, url.href);
      resolve(tlsErr ? { ok: false, retry: false, error: tlsErr } : {
        ok: false,
        retry: true,
        error: new AgentError(AgentErrorCode.COLLECTOR_UNREACHABLE, `enrolment at ${url.href} failed: ${err.code ?? err.message}`, { cause: err }),
      });
    };
    const req = request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      timeout: s.connectTimeoutMs,
      ...httpsRequestOptions(tls),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', unreachable);
      res.on('end', () => {
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        } catch {
          // answered below by status
        }
        if (res.statusCode === 200 && typeof json.agent_id === 'string' && typeof json.credential === 'string') {
          resolve({ ok: true, credential: { agentId: json.agent_id, token: json.credential } });
          return;
        }
        const e = (json.error ?? {}) as { code?: string; message?: string };
        const status = res.statusCode ?? 0;
        resolve({
          ok: false,
          retry: status >= 500,
          error: new AgentError(status >= 500 ? AgentErrorCode.COLLECTOR_UNREACHABLE : AgentErrorCode.ENROL_REFUSED,
            `collector refused enrolment (HTTP ${status}${e.code ? ` ${e.code}` : ''}): ${e.message ?? 'no reason given'}`),
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${s.connectTimeoutMs} ms`)));
    req.on('error', unreachable);
    req.end(body);
  });
}

/**
 * The agent id and bearer credential to connect with, enrolling first when needed. `onRetry` is told
 * about each failed attempt that will be retried; `stopped()` ends the retries (signal).
 */
export async function resolveCredential(
  s: IdentitySettings,
  tls: ClientTlsOptions,
  onRetry: (err: AgentError, retryInMs: number) => void,
  stopped: () => boolean = () => false,
): Promise<AgentCredential> {
  let existing: AgentCredential | undefined;
  if (s.credentialFile) {
    try {
      existing = readCredentialFile(s.credentialFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err instanceof AgentError ? err : fileError(s.credentialFile, (err as Error).message, err);
    }
  }
  const pick = (c: AgentCredential): AgentCredential => {
    if (s.agentId && c.agentId !== s.agentId) {
      throw fileError(s.credentialFile, `is for agent "${c.agentId}" but agent_id is "${s.agentId}"`);
    }
    return c;
  };
  if (existing) return pick(existing);
  if (!s.enrolToken) {
    if (s.token) return { agentId: s.agentId, token: s.token };
    throw fileError(s.credentialFile, 'does not exist and no collector.enrol_token is given to enrol with');
  }
  const backoff = new Backoff(s.backoffInitialMs, s.backoffMaxMs);
  for (;;) {
    const r = await postEnrol(s, tls);
    if (r.ok) {
      writeCredentialFile(s.credentialFile, {
        agent_id: r.credential.agentId, credential: r.credential.token, collector_url: s.url, enrolled_at: new Date().toISOString(),
      });
      return pick(r.credential);
    }
    if (!r.retry || stopped()) throw r.error;
    const delay = backoff.next();
    onRetry(r.error, delay);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
