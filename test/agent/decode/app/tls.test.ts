// TLS ClientHello: SNI, ALPN, offered version, JA4 (checked against the example of FoxIO's JA4
// specification, rebuilt here as a ClientHello), GREASE, ClientHellos cut anywhere.
import t from 'tap';
import { createHash } from 'node:crypto';
import { isGrease, ja4 } from '../../../../agent/decode/app/ja4';
import { ascii, bytes, consistent, hx, inspect } from './app-helpers';

const TCP = 6;

interface Hello { legacy?: number; ciphers: number[]; exts: Array<[number, string]>; recordVersion?: number }

/** A ClientHello record: random of 0x11s, a 32-byte session id, no compression, the extensions given. */
function clientHello(h: Hello): string {
  const ext = h.exts.map(([type, data]) => hx(type, 2) + hx(data.replace(/\s/g, '').length / 2, 2) + data.replace(/\s/g, '')).join('');
  const body = hx(h.legacy ?? 0x0303, 2) + '11'.repeat(32) + '20' + '22'.repeat(32) +
    hx(h.ciphers.length * 2, 2) + h.ciphers.map((c) => hx(c, 2)).join('') + '0100' + hx(ext.length / 2, 2) + ext;
  const hs = '01' + hx(body.length / 2, 3) + body;
  return '16' + hx(h.recordVersion ?? 0x0301, 2) + hx(hs.length / 2, 2) + hs;
}

const sni = (name: string) => hx(name.length + 3, 2) + '00' + hx(name.length, 2) + ascii(name);
const alpn = (...names: string[]) => {
  const list = names.map((n) => hx(n.length, 1) + ascii(n)).join('');
  return hx(list.length / 2, 2) + list;
};
const u16s = (lenBytes: number, ...v: number[]) => hx(v.length * 2, lenBytes) + v.map((x) => hx(x, 2)).join('');

// The example of FoxIO's JA4 specification (technical_details/JA4.md): ciphers and extensions in that
// order, GREASE added at the front and back of each list and in supported_versions.
const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
const SPEC_HELLO: Hello = {
  ciphers: [0x2a2a, ...SPEC_CIPHERS],
  exts: [
    [0x0a0a, ''],
    [0x001b, '020002'],
    [0x0000, sni('www.Example.com')],
    [0x0033, '0026 001d 0020' + '33'.repeat(32)],
    [0x0010, alpn('h2', 'http/1.1')],
    [0x4469, '0003 02' + ascii('h2')],
    [0x0017, ''],
    [0x002d, '0101'],
    [0x000d, u16s(2, ...SPEC_SIGALGS)],
    [0x0005, '0100000000'],
    [0x0023, ''],
    [0x0012, ''],
    [0x002b, u16s(1, 0x7a7a, 0x0304, 0x0303)],
    [0xff01, '00'],
    [0x000b, '0100'],
    [0x000a, u16s(2, 0xfafa, 0x001d, 0x0017, 0x0018)],
    [0x0015, '0000000000'],
    [0x1a1a, '00'],
  ],
};
const SPEC_JA4 = 't13d1516h2_8daaf6152771_e5627efa2ab1';

t.test("JA4 of the specification's example", async (t) => {
  const r = inspect(TCP, 50000, 443, bytes(clientHello(SPEC_HELLO)));
  t.same(r, {
    found: true,
    out: { tlsSni: 'www.example.com', tlsAlpn: ['h2', 'http/1.1'], tlsVersion: 0x0304, ja4: SPEC_JA4 },
  });
});

t.test('JA4 parts as the specification computes them', async (t) => {
  const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
  t.equal(sha12('002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9'), '8daaf6152771');
  t.equal(sha12('0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01'), '6d807ffa2a79');
  const base = {
    transport: 't' as const, legacyVersion: 0x0303, supportedVersions: null, hasSni: false, ciphers: [0x1301],
    extensions: [0x000a], firstAlpn: null, signatureAlgorithms: null,
  };
  t.equal(ja4(base), `t12i010100_${sha12('1301')}_${sha12('000a')}`, 'legacy version, no SNI, no ALPN, no signature algorithms');
  t.equal(ja4({ ...base, transport: 'q', legacyVersion: 0x0301 }).slice(0, 3), 'q10');
  t.equal(ja4({ ...base, legacyVersion: 0x0300 }).slice(1, 3), 's3');
  t.equal(ja4({ ...base, legacyVersion: 0x7777 }).slice(1, 3), '00', 'unknown version');
  t.equal(ja4({ ...base, supportedVersions: [0x0a0a, 0x0302] }).slice(1, 3), '11', 'supported_versions wins, GREASE ignored');
  t.equal(ja4({ ...base, supportedVersions: [0xfefd, 0xfefc] }).slice(1, 3), 'd3', 'DTLS 1.3 above 1.2');
  t.equal(ja4({ ...base, firstAlpn: 'h' }).slice(8, 10), 'hh', 'a one-character ALPN');
  t.equal(ja4({ ...base, firstAlpn: '\xab\x01\xcd' }).slice(8, 10), 'ad', 'non-alphanumeric ALPN: first and last hex digit');
  t.equal(ja4({ ...base, firstAlpn: '' }).slice(8, 10), '00', 'empty ALPN value');
  t.equal(ja4({ ...base, ciphers: Array.from({ length: 120 }, (_, i) => i + 1) }).slice(4, 6), '99', 'over 99 ciphers');
  t.equal(ja4({ ...base, ciphers: [], extensions: [] }), 't12i000000_000000000000_000000000000', 'empty lists');
  t.equal(ja4({ ...base, extensions: [0x0000, 0x0010, 0x000a], signatureAlgorithms: [0x0403, 0x0a0a, 0x0804] }),
    `t12i0103${'00'}_${sha12('1301')}_${sha12('000a_0403,0804')}`, 'SNI and ALPN counted, not hashed; GREASE signature algorithm ignored');
  t.ok(isGrease(0x0a0a) && isGrease(0xfafa) && !isGrease(0x0a1a) && !isGrease(0x1301));
});

t.test('a TLS 1.2 hello: legacy version, no ALPN, no SNI; any port', async (t) => {
  const hello = clientHello({ ciphers: [0xc02f, 0x009c], exts: [[0x000d, u16s(2, 0x0401)], [0x000b, '0100']] });
  const r = inspect(TCP, 1234, 8443, bytes(hello));
  const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
  t.same(r.out, { tlsVersion: 0x0303, ja4: `t12i020200_${sha12('009c,c02f')}_${sha12('000b,000d_0401')}` });
});

t.test('not a ClientHello: other records and handshakes, garbage lengths', async (t) => {
  t.equal(inspect(TCP, 443, 1, bytes('16 0303 0031 02 00002d 0303' + '00'.repeat(40))).found, false, 'ServerHello');
  t.equal(inspect(TCP, 443, 1, bytes('17 0303 0010' + '00'.repeat(16))).found, false, 'application data');
  t.equal(inspect(TCP, 443, 1, bytes('16 0305 0010 01' + '00'.repeat(16))).found, false, 'record version 3.5');
  t.equal(inspect(TCP, 443, 1, bytes('16 0301 0010 01 00000c 0202' + '00'.repeat(16))).found, false, 'hello version 2.2');
  // Cipher suite length past the hello.
  const bad = clientHello({ ciphers: [0x1301], exts: [] }).replace('00021301', 'ff021301');
  t.equal(inspect(TCP, 1, 443, bytes(bad)).found, false, 'cipher list too long');
  // An extension longer than the extension block: SNI before it is kept, nothing after, no JA4.
  const over = clientHello({ ciphers: [0x1301], exts: [[0x0000, sni('a.example')], [0x0010, alpn('h2')]] }).replace('0010000500', '0010ff0500');
  t.same(inspect(TCP, 1, 443, bytes(over)).out, { tlsSni: 'a.example' });
});

t.test('a ClientHello cut at every length (split over segments): what is complete, never a wrong value', async (t) => {
  const b = bytes(clientHello(SPEC_HELLO));
  const full = inspect(TCP, 1, 443, b).out;
  let failures = 0;
  let firstSni = -1;
  for (let len = 0; len <= b.length; len++) {
    let r;
    try { r = inspect(TCP, 1, 443, b, len); } catch (err) { failures++; t.fail(`threw at ${len}: ${String(err)}`); continue; }
    if (!consistent(r.out, full) || r.found !== Object.keys(r.out).length > 0) { failures++; t.fail(`at ${len}: ${JSON.stringify(r.out)}`); }
    if ((r.out.ja4 !== undefined) !== (len === b.length)) { failures++; t.fail(`ja4 at ${len}`); }
    if (r.out.tlsAlpn !== undefined && r.out.tlsAlpn.length !== 2) { failures++; t.fail(`partial ALPN list at ${len}`); }
    if (r.out.tlsSni !== undefined && firstSni < 0) firstSni = len;
  }
  t.equal(failures, 0, `${b.length + 1} lengths`);
  t.ok(firstSni > 0 && firstSni < b.length, `SNI found once its extension is complete (from ${firstSni} of ${b.length} bytes)`);
});

t.test('a hello split over two TLS records: the first record is the hello as far as it goes', async (t) => {
  const whole = bytes(clientHello(SPEC_HELLO));
  const hs = whole.subarray(5);
  const first = hs.subarray(0, 120);
  const rec = bytes('16 0301 ' + hx(first.length, 2) + Buffer.from(first).toString('hex') + '16 0301 ' +
    hx(hs.length - 120, 2) + Buffer.from(hs.subarray(120)).toString('hex'));
  const r = inspect(TCP, 1, 443, rec).out;
  t.ok(consistent(r, inspect(TCP, 1, 443, whole).out));
  t.equal(r.ja4, undefined);
});
