// TLS towards the collector (collector.tls): the options both the WebSocket (ws) and the enrolment
// request (https.request) are built with, and the mapping of TLS failures to coded AgentErrors.
//
// Trust is one of:
//   ca_file     the collector's certificate must chain to this CA bundle and name the host (Node's checks)
//   pin_sha256  the certificate is trusted because of its key (sha256 of its SPKI) or its exact bytes
//               (sha256 of the DER certificate), whoever signed it: a self-signed collector works
//   both        both checks
//   neither     the system CAs
// A pin is checked in the TLS socket's 'secureConnect', registered before ws / http attach theirs: on a
// mismatch the socket is destroyed before the HTTP request (and its bearer credential) is written.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import * as tls from 'node:tls';
import type { ClientOptions } from 'ws';
import { AgentError, AgentErrorCode } from '../errors';

export interface TlsSettings {
  readonly ca_file: string;
  readonly pin_sha256: string;
  readonly cert_file: string;
  readonly key_file: string;
}

/** Options to spread into `new WebSocket(url, …)` or `https.request(…)`. Empty for ws:// and http://. */
export interface ClientTlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  /** ws's (and http's) hook for making the socket; typed as ws declares it */
  createConnection?: ClientOptions['createConnection'];
}

/** A pin as 64 lowercase hex digits, from hex (colons allowed) or base64 (`sha256/` prefix allowed); '' if malformed. */
export function normalizePin(pin: string): string {
  const s = pin.trim().replace(/^sha256\//i, '');
  const hex = s.replace(/:/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return hex.toLowerCase();
  if (/^[A-Za-z0-9+/]{43}=$/.test(s)) return Buffer.from(s, 'base64').toString('hex');
  return '';
}

/** sha256 (hex) of a certificate's SubjectPublicKeyInfo and of the certificate itself. */
export function certificateDigests(der: Buffer): { spki: string; cert: string } {
  const spki = new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' });
  return {
    spki: createHash('sha256').update(spki).digest('hex'),
    cert: createHash('sha256').update(der).digest('hex'),
  };
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new AgentError(AgentErrorCode.TLS_CONFIG, `collector.tls.${key} ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Reads the files once; throws AgentError(AGENT_ERR_TLS_CONFIG) naming the bad one. */
export function buildTlsOptions(settings: TlsSettings): ClientTlsOptions {
  const out: ClientTlsOptions = {};
  if (settings.ca_file) out.ca = readPem(settings.ca_file, 'ca_file');
  if (settings.cert_file) {
    out.cert = readPem(settings.cert_file, 'cert_file');
    out.key = readPem(settings.key_file, 'key_file');
  }
  try {
    tls.createSecureContext({ ca: out.ca, cert: out.cert, key: out.key });
  } catch (err) {
    throw new AgentError(AgentErrorCode.TLS_CONFIG, `collector.tls: the CA, certificate or key files are not usable PEM: ${(err as Error).message}`, { cause: err });
  }
  const pin = settings.pin_sha256;
  if (pin) {
    // Pin only: any issuer, the pin is the trust. Pin + CA: the chain is checked as well.
    out.rejectUnauthorized = out.ca !== undefined;
    const connect = (options: tls.ConnectionOptions): tls.TLSSocket => {
      const socket = tls.connect({ ...options, rejectUnauthorized: out.rejectUnauthorized });
      socket.once('secureConnect', () => {
        const peer = socket.getPeerCertificate(false);
        const d = peer?.raw ? certificateDigests(peer.raw) : undefined;
        if (!d || (d.spki !== pin && d.cert !== pin)) {
          socket.destroy(new AgentError(AgentErrorCode.TLS_PIN_MISMATCH,
            `collector certificate does not match collector.tls.pin_sha256 ${pin} (its SPKI sha256 is ${d?.spki ?? 'unknown'}, certificate sha256 ${d?.cert ?? 'unknown'})`));
        }
      });
      return socket;
    };
    // ws and http call it with connection options for a TLS socket; their typings say net options.
    out.createConnection = connect as unknown as ClientOptions['createConnection'];
  }
  return out;
}

/** OpenSSL/Node codes for a certificate the agent does not trust or a handshake the collector refused. */
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_OSSL_)/;

/**
 * The same options for `https.request`. With a pin there must be no `agent` at all (not even
 * `agent: false`, which makes a fresh Agent): http only calls createConnection when no agent is used.
 */
export function httpsRequestOptions(o: ClientTlsOptions): RequestOptions {
  const { createConnection, ...rest } = o;
  if (!createConnection) return rest;
  return { ...rest, agent: undefined, createConnection: createConnection as unknown as RequestOptions['createConnection'] };
}

/** A coded AgentError for a TLS failure (ours or from Node), undefined for anything else. */
export function tlsFailure(err: Error & { code?: string }, url: string): AgentError | undefined {
  if (err instanceof AgentError) return err;
  if (!err.code || !TLS_CODE.test(err.code)) return undefined;
  return new AgentError(AgentErrorCode.TLS_HANDSHAKE, `TLS with the collector at ${url} failed: ${err.code}: ${err.message}`, { cause: err });
}
