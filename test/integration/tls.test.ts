// wss:// between real agent and collector processes, with certificates made by openssl at test time:
// a pinned collector key or a CA file works, a wrong pin stops the agent before it sends anything
// (AGENT_ERR_TLS_PIN_MISMATCH), an untrusted certificate fails (AGENT_ERR_TLS_HANDSHAKE), and a
// collector requiring client certificates (mutual TLS) refuses an agent without one.
import t from 'tap';
import * as https from 'node:https';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { metricValue } from '../collector/helpers';
import { certFingerprint, makePki, spkiPin, type TestPki } from '../helpers/certs';
import { createToken, startAgent, startIdCollector, type IdCollector } from '../helpers/identity';
import { LABELED, stop, tempDir } from '../helpers/processes';

const CAPTURE = join(LABELED, 'simplescan_port_scan.pcap');

function httpsText(port: number, path: string, tls: https.RequestOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, ...tls }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

function enrolOverHttps(port: number, token: string, tls: https.RequestOptions): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ token });
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/v1/enrol', method: 'POST', headers: { 'Content-Type': 'application/json' }, ...tls }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function flowCount(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function agentConfig(c: IdCollector, tls: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    agent_id: 'gw-static',
    source: { file: CAPTURE },
    collector: {
      url: `wss://127.0.0.1:${c.port}`, token: c.staticToken, tls, drain_timeout_ms: 4000, backoff_initial_ms: 100, backoff_max_ms: 500,
      ...extra,
    },
  };
}

async function runAgent(dir: string, name: string, cfg: Record<string, unknown>): Promise<{ status: number; log: string }> {
  const a = startAgent(dir, name, cfg);
  const status = await a.exited;
  return { status, log: a.stderr.join('\n') };
}

let pki: TestPki;
t.before(() => {
  pki = makePki(tempDir('gk-pki-'));
});

t.test('server TLS: pin (SPKI or certificate) and CA file work; a wrong pin or no trust fails with a coded error', async (t) => {
  const dir = tempDir('gk-tls-');
  const c = await startIdCollector(dir, { listen: { tls: { cert_file: pki.serverCert, key_file: pki.serverKey } } });
  t.teardown(() => stop(c.proc));
  const metrics = (): Promise<string> => httpsText(c.port, '/metrics', { ca: readFileSync(pki.caCert) });

  const pinned = await runAgent(dir, 'pinned', agentConfig(c, { pin_sha256: spkiPin(pki.serverCert) }));
  t.equal(pinned.status, 0, `SPKI pin: delivered (${pinned.log})`);
  t.equal(flowCount(c.dbPath), 10);

  const viaCa = await runAgent(dir, 'ca', agentConfig(c, { ca_file: pki.caCert }));
  t.equal(viaCa.status, 0, `CA file: delivered (${viaCa.log})`);
  t.equal(flowCount(c.dbPath), 20);

  // Enrolment over HTTPS with the certificate fingerprint (colon form) as the pin, then delivery.
  const enrolled = await runAgent(dir, 'enrolled', {
    source: { file: CAPTURE },
    collector: {
      url: `wss://127.0.0.1:${c.port}`, enrol_token: createToken(c.configPath, ['--name', 'gw-tls']),
      credential_file: join(dir, 'cred.json'), tls: { pin_sha256: certFingerprint(pki.serverCert) }, drain_timeout_ms: 20000,
    },
  });
  t.equal(enrolled.status, 0, `enrolment over https with a certificate pin (${enrolled.log})`);
  t.equal(flowCount(c.dbPath), 30);

  const before = await metrics();
  const wrong = await runAgent(dir, 'wrong-pin', agentConfig(c, { pin_sha256: spkiPin(pki.otherCert) }));
  t.equal(wrong.status, 3, 'undelivered');
  t.match(wrong.log, /AGENT_ERR_TLS_PIN_MISMATCH/, 'coded pin error');
  const after = await metrics();
  for (const series of ['connections_total{endpoint="agent"}', 'auth_failures_total{endpoint="agent"}']) {
    t.equal(metricValue(after, series), metricValue(before, series), `${series}: no request reached the collector`);
  }

  const untrusted = await runAgent(dir, 'untrusted', agentConfig(c, {}));
  t.match(untrusted.log, /AGENT_ERR_TLS_HANDSHAKE/, 'system CAs do not trust a private CA: coded handshake error');

  const unsent = createToken(c.configPath);
  const wrongPinEnrol = await runAgent(dir, 'wrong-pin-enrol', {
    source: { file: CAPTURE },
    collector: {
      url: `wss://127.0.0.1:${c.port}`, enrol_token: unsent, credential_file: join(dir, 'never.json'),
      tls: { pin_sha256: spkiPin(pki.otherCert) },
    },
  });
  t.equal(wrongPinEnrol.status, 3, 'enrolment with a wrong pin is final, not retried');
  t.match(wrongPinEnrol.log, /"event":"fatal","code":"AGENT_ERR_TLS_PIN_MISMATCH"/, 'coded pin error from the enrolment');
  t.notOk(existsSync(join(dir, 'never.json')), 'no credential');
  const stillFresh = await enrolOverHttps(c.port, unsent, { ca: readFileSync(pki.caCert) });
  t.equal(stillFresh.status, 200, 'the token was never sent: it is still unused');
});

t.test('mutual TLS: an agent without a client certificate is refused and counted; with one it delivers', async (t) => {
  const dir = tempDir('gk-mtls-');
  const c = await startIdCollector(dir, {
    listen: { tls: { cert_file: pki.serverCert, key_file: pki.serverKey, client_ca_file: pki.caCert } },
  });
  t.teardown(() => stop(c.proc));
  const clientTls = { ca: readFileSync(pki.caCert), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) };

  const without = await runAgent(dir, 'no-cert', agentConfig(c, { ca_file: pki.caCert }));
  t.equal(without.status, 3);
  t.match(without.log, /AGENT_ERR_TLS_HANDSHAKE/, 'coded handshake error');
  const m = await httpsText(c.port, '/metrics', clientTls);
  t.ok((metricValue(m, 'connections_rejected_total{reason="tls_handshake"}') ?? 0) >= 1, 'refusal counted by reason');
  t.equal(metricValue(m, 'connections_total{endpoint="agent"}'), 0);

  const withCert = await runAgent(dir, 'cert', agentConfig(c, { ca_file: pki.caCert, cert_file: pki.clientCert, key_file: pki.clientKey }));
  t.equal(withCert.status, 0, `client certificate: delivered (${withCert.log})`);
  t.equal(flowCount(c.dbPath), 10);
});
