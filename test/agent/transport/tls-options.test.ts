// collector.tls: pin formats, digests that agree with openssl, coded errors for bad files and settings.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { buildConfig } from '../../../agent/config';
import { buildTlsOptions, certificateDigests, normalizePin, tlsFailure } from '../../../agent/transport/tls-options';
import { enrolUrl } from '../../../agent/transport/enrol';
import { parseCli } from '../../../agent/cli';
import { certFingerprint, makePki, spkiPin } from '../../helpers/certs';
import { tempDir } from '../../helpers/processes';

const pki = makePki(tempDir('gk-tlsopt-'));
const NONE = { ca_file: '', pin_sha256: '', cert_file: '', key_file: '' };

t.test('pins: hex, colon hex, base64, sha256/ prefix; anything else is empty', async (t) => {
  const hex = spkiPin(pki.serverCert);
  t.equal(normalizePin(hex.toUpperCase()), hex);
  t.equal(normalizePin(certFingerprint(pki.serverCert)), certFingerprint(pki.serverCert).replace(/:/g, '').toLowerCase());
  const b64 = Buffer.from(hex, 'hex').toString('base64');
  t.equal(normalizePin(b64), hex);
  t.equal(normalizePin(`sha256/${b64}`), hex);
  t.equal(normalizePin('abc'), '');
  t.equal(normalizePin('z'.repeat(64)), '');
});

t.test('certificateDigests agree with openssl', async (t) => {
  const der = new X509Certificate(readFileSync(pki.serverCert)).raw;
  const d = certificateDigests(der);
  t.equal(d.spki, spkiPin(pki.serverCert), 'SPKI sha256 as openssl pkey -outform der | sha256');
  t.equal(d.cert, normalizePin(certFingerprint(pki.serverCert)), 'certificate sha256 as the fingerprint');
});

t.test('buildTlsOptions reads files once and names the bad one', async (t) => {
  t.same(buildTlsOptions(NONE), {}, 'nothing set: system CAs');
  const ca = buildTlsOptions({ ...NONE, ca_file: pki.caCert });
  t.ok(ca.ca && ca.createConnection === undefined && ca.rejectUnauthorized === undefined, 'CA only: Node verifies');
  const pinned = buildTlsOptions({ ...NONE, pin_sha256: spkiPin(pki.serverCert) });
  t.equal(pinned.rejectUnauthorized, false, 'pin only: the pin is the trust');
  t.type(pinned.createConnection, 'function');
  t.throws(() => buildTlsOptions({ ...NONE, ca_file: join(pki.dir, 'missing.pem') }), { code: 'AGENT_ERR_TLS_CONFIG', message: /ca_file .*missing\.pem/ });
  t.throws(() => buildTlsOptions({ ...NONE, cert_file: pki.clientCert, key_file: pki.serverKey }), { code: 'AGENT_ERR_TLS_CONFIG' }, 'key does not match the certificate');
});

t.test('TLS failures get TLS codes, other errors none', async (t) => {
  t.equal(tlsFailure(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'wss://h')?.code, 'AGENT_ERR_TLS_HANDSHAKE');
  t.equal(tlsFailure(Object.assign(new Error('x'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), 'wss://h')?.code, 'AGENT_ERR_TLS_HANDSHAKE');
  t.equal(tlsFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'wss://h'), undefined);
});

t.test('config: identity and TLS keys checked at start', async (t) => {
  const base = { source: { file: '/x.pcap' } };
  const cfg = buildConfig(null, { ...base, collector: { url: 'wss://c:1', credential_file: '/var/lib/gk/cred.json', tls: { pin_sha256: `sha256/${Buffer.alloc(32, 1).toString('base64')}` } } });
  t.equal(cfg.agent_id, '', 'no agent id needed with a credential file');
  t.equal(cfg.collector.tls.pin_sha256, '01'.repeat(32), 'pin normalised to hex');
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ url: 'ws://c:1', token: 'x', tls: { ca_file: '/ca.pem' } }, /collector\.tls is set but .* is not wss:\/\//],
    [{ url: 'wss://c:1', token: 'x', tls: { pin_sha256: 'nope' } }, /pin_sha256 "nope" must be a sha256/],
    [{ url: 'wss://c:1', token: 'x', tls: { cert_file: '/c.pem' } }, /cert_file and collector\.tls\.key_file must be given together/],
    [{ url: 'wss://c:1', enrol_token: 'gke1.x.y' }, /enrol_token needs collector\.credential_file/],
    [{ url: 'wss://c:1' }, /a token is needed .* or a collector\.credential_file/],
    [{ url: 'wss://c:1', token: 'x', tls: { ca_flie: '' } }, /unknown option "collector\.tls\.ca_flie"/],
  ];
  for (const [collector, re] of bad) {
    t.throws(() => buildConfig(null, { ...base, agent_id: 'gw1', collector }), { code: 'AGENT_ERR_CONFIG_INVALID', message: re });
  }
  const fromFlags = buildConfig(null, parseCli([
    '-r', '/x.pcap', '-c', 'wss://c:1', '--credential-file', '/var/lib/gk/cred.json', '--pin-sha256', spkiPin(pki.serverCert),
    '--ca-file', pki.caCert,
  ]).overrides);
  t.same(fromFlags.collector.tls, { ca_file: pki.caCert, pin_sha256: spkiPin(pki.serverCert), cert_file: '', key_file: '' }, 'flags reach collector.tls');
  t.equal(fromFlags.collector.credential_file, '/var/lib/gk/cred.json');
  t.equal(enrolUrl('wss://c:7470/v1/agent?x=1').href, 'https://c:7470/v1/enrol');
  t.equal(enrolUrl('ws://c:7470/v1/agent').href, 'http://c:7470/v1/enrol');
});
