// listen.tls → the PEM contents the HTTPS server needs, read and checked once at start (a bad file
// fails here with COLL_ERR_TLS_FILES, naming it, instead of at the first client).
import * as fs from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ListenTlsConfig } from '../config';
import { CollectorError, CollectorErrorCode, errorMessage } from '../errors';
import type { ServerTls } from './http-server';

function read(file: string, key: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new CollectorError(CollectorErrorCode.TLS_FILES, `listen.tls.${key} ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

export function readServerTls(cfg: ListenTlsConfig): ServerTls | undefined {
  if (!cfg.cert_file) return undefined;
  const out: ServerTls = { cert: read(cfg.cert_file, 'cert_file'), key: read(cfg.key_file, 'key_file') };
  if (cfg.client_ca_file) out.ca = read(cfg.client_ca_file, 'client_ca_file');
  try {
    createSecureContext(out);
  } catch (err) {
    throw new CollectorError(
      CollectorErrorCode.TLS_FILES,
      `listen.tls: ${cfg.cert_file} / ${cfg.key_file}${out.ca ? ` / ${cfg.client_ca_file}` : ''} are not a usable PEM certificate and key: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  return out;
}
