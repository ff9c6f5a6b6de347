// POST /v1/enrol: an agent trades a one-time enrolment token for its own credential.
//
//   request   {"token": "gke1....", "agent_id": "gw1" (optional), "hostname": "..." (optional)}
//   200       {"agent_id": "gw1", "credential": "gka1.gw1...."}
//   4xx       {"error": {"code": "COLL_ERR_ENROL_...", "message": "..."}}
//
// JSON over plain HTTP(S), not protobuf: it happens once per agent, before the agent protocol.
// The body is bounded (MAX_BODY_BYTES); the server's requestTimeout bounds a slow sender.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CollectorError, CollectorErrorCode, errorMessage } from '../errors';
import type { Counter, Logger, Registry, RequestHandler } from '../obs';
import type { Identity } from './identity';
import { AGENT_ID_PATTERN } from './secrets';

const MAX_BODY_BYTES = 4096;
const HOSTNAME_PATTERN = /^[^\x00-\x1f\x7f]{0,255}$/;

const STATUS: Record<string, number> = {
  [CollectorErrorCode.ENROL_BAD_REQUEST]: 400,
  [CollectorErrorCode.ENROL_TOKEN_INVALID]: 401,
  [CollectorErrorCode.ENROL_TOKEN_USED]: 401,
  [CollectorErrorCode.ENROL_TOKEN_EXPIRED]: 401,
  [CollectorErrorCode.ENROL_AGENT_EXISTS]: 409,
};

/** Enrolment happens once per agent: the connection is closed after the answer (no idle keep-alive). */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), Connection: 'close' });
  res.end(text);
}

function badRequest(message: string): CollectorError {
  return new CollectorError(CollectorErrorCode.ENROL_BAD_REQUEST, message);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return reject(badRequest(`body over ${MAX_BODY_BYTES} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(badRequest(`body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseRequest(body: Buffer): { token: string; agentId: string; hostname: string } {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('body is not JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('body must be a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['token', 'agent_id', 'hostname'].includes(k)) throw badRequest(`unknown key "${k}"`);
  if (typeof o.token !== 'string' || !o.token) throw badRequest('token: a string is required');
  const agentId = o.agent_id ?? '';
  if (typeof agentId !== 'string' || (agentId && !AGENT_ID_PATTERN.test(agentId))) {
    throw badRequest("agent_id: 1–64 letters, digits, '.', '_' or '-'");
  }
  const hostname = o.hostname ?? '';
  if (typeof hostname !== 'string' || !HOSTNAME_PATTERN.test(hostname)) throw badRequest('hostname: at most 255 characters, no control characters');
  return { token: o.token, agentId, hostname };
}

export function enrolHandler(identity: Identity, metrics: Registry, log: Logger): RequestHandler {
  const results: Counter = metrics.counter('enrolments_total', 'POST /v1/enrol requests, by result (ok or the COLL_ERR_* code).', [
    { result: 'ok' },
    ...Object.keys(STATUS).map((result) => ({ result })),
  ]);
  return (req, res) => {
    const remote = req.socket.remoteAddress ?? 'unknown';
    void (async () => {
      try {
        const r = parseRequest(await readBody(req));
        const out = await identity.enrol({ ...r, remote });
        results.inc({ result: 'ok' });
        log.info('agent enrolled', { agent_id: out.agentId, hostname: r.hostname, ip: remote });
        sendJson(res, 200, { agent_id: out.agentId, credential: out.credential });
      } catch (err) {
        const code = err instanceof CollectorError ? err.code : 'internal';
        const status = STATUS[code] ?? 500;
        results.inc({ result: status === 500 ? 'internal' : code });
        log.warn('enrolment refused', { code, err: errorMessage(err), ip: remote });
        if (res.headersSent || res.destroyed) return;
        const message = status === 500 ? 'internal error' : errorMessage(err);
        sendJson(res, status, { error: { code, message } });
      }
    })();
  };
}
