// DNS and mDNS: question, type, response code, answers; compression pointers and their loops; DNS
// over TCP; every prefix of a message.
import t from 'tap';
import { MAX_DNS_ANSWERS } from '../../../../agent/decode/app/dns';
import { ascii, bytes, consistent, dnsName, hx, inspect } from './app-helpers';

const UDP = 17;
const TCP = 6;

/** Header: id 0x1234, flags, counts. */
const header = (flags: number, qd: number, an: number, ns = 0, ar = 0) =>
  `1234 ${hx(flags, 2)} ${hx(qd, 2)} ${hx(an, 2)} ${hx(ns, 2)} ${hx(ar, 2)} |`;

const QUERY = header(0x0100, 1, 0) + dnsName('WWW.Example.COM') + ' 0001 0001';

/**
 * Response to www.example.com A: CNAME web.example.com (compressed: "web" + pointer to "example.com"
 * at offset 16), A 93.184.216.34 and AAAA 2606:2800:220:1:248:1893:25c8:1946, both named by a pointer
 * to the CNAME target; a TXT record in between is skipped.
 */
const RESPONSE = header(0x8180, 1, 4) + dnsName('www.example.com') + ' 0001 0001 |' +
  'c00c 0005 0001 00000e10 0006 03' + ascii('web') + 'c010 |' +
  'c02d 0010 0001 00000e10 0004 03' + ascii('abc') + ' |' +
  'c02d 0001 0001 00000e10 0004 5db8d822 |' +
  'c02d 001c 0001 00000e10 0010 26062800022000010248189325c81946';
const RESPONSE_NAMES = {
  dnsQuery: 'www.example.com', dnsQtype: 1, dnsRcode: 0,
  dnsAnswers: ['web.example.com', '93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
};

t.test('query: name lower-cased without the trailing dot, type', async (t) => {
  t.same(inspect(UDP, 40000, 53, bytes(QUERY)), { found: true, out: { dnsQuery: 'www.example.com', dnsQtype: 1 } });
});

t.test('response: rcode, CNAME via a compression pointer, A, AAAA; other types skipped', async (t) => {
  t.same(inspect(UDP, 53, 40000, bytes(RESPONSE)), { found: true, out: RESPONSE_NAMES });
});

t.test('NXDOMAIN, PTR answers, root name, escapes', async (t) => {
  const nx = header(0x8183, 1, 0) + dnsName('nope.example') + ' 001c 0001';
  t.same(inspect(UDP, 53, 1, bytes(nx)).out, { dnsQuery: 'nope.example', dnsQtype: 28, dnsRcode: 3 });
  const ptr = header(0x8180, 1, 1) + dnsName('4.3.2.1.in-addr.arpa') + ' 000c 0001 | c00c 000c 0001 00000001 000a ' + dnsName('host.LAN');
  t.same(inspect(UDP, 53, 1, bytes(ptr)).out, { dnsQuery: '4.3.2.1.in-addr.arpa', dnsQtype: 12, dnsRcode: 0, dnsAnswers: ['host.lan'] });
  t.same(inspect(UDP, 1, 53, bytes(header(0x0000, 1, 0) + '00 0002 0001')).out, { dnsQuery: '.', dnsQtype: 2 });
  const odd = header(0x0100, 1, 0) + '03 61 2e 62 02 00 0a 00 0001 0001';   // "a.b" and "\000\010" as labels
  t.same(inspect(UDP, 1, 53, bytes(odd)).out, { dnsQuery: 'a\\.b.\\000\\010', dnsQtype: 1 });
});

t.test('compression pointer loops and pointers out of the message are garbage', async (t) => {
  const self = header(0x0100, 1, 0) + 'c00c 0001 0001';                       // the name points at itself
  t.same(inspect(UDP, 1, 53, bytes(self)), { found: false, out: {} });
  const pingPong = header(0x0100, 1, 0) + '01 61 c011 | 01 62 c00c 0001 0001'; // a → b → a …
  t.same(inspect(UDP, 1, 53, bytes(pingPong)), { found: false, out: {} });
  const out = header(0x0100, 1, 0) + 'c0ff 0001 0001';
  t.same(inspect(UDP, 1, 53, bytes(out)), { found: false, out: {} });
  // An answer whose CNAME target loops is dropped; the rest of the response stands.
  const badAnswer = header(0x8180, 1, 2) + dnsName('a.b') + ' 0001 0001 | c00c 0005 0001 00000001 0002 c021 | c00c 0001 0001 00000001 0004 01020304';
  t.same(inspect(UDP, 53, 1, bytes(badAnswer)).out, { dnsQuery: 'a.b', dnsQtype: 1, dnsRcode: 0, dnsAnswers: ['1.2.3.4'] });
  // A 63-byte label is fine; label types 0x40/0x80 and names over 255 bytes are not.
  t.equal(inspect(UDP, 1, 53, bytes(header(0x0100, 1, 0) + dnsName('x'.repeat(63)) + ' 0001 0001')).out.dnsQuery, 'x'.repeat(63));
  t.equal(inspect(UDP, 1, 53, bytes(header(0x0100, 1, 0) + '41 00 0001 0001')).found, false);
  const long = Array.from({ length: 5 }, () => 'y'.repeat(60)).join('.');
  t.equal(inspect(UDP, 1, 53, bytes(header(0x0100, 1, 0) + dnsName(long) + ' 0001 0001')).found, false);
});

t.test(`at most ${MAX_DNS_ANSWERS} answers`, async (t) => {
  const many = header(0x8180, 1, 12) + dnsName('m.example') + ' 0001 0001 |' +
    Array.from({ length: 12 }, (_, i) => `c00c 0001 0001 00000001 0004 0a0000${hx(i + 1, 1)}`).join(' ');
  const out = inspect(UDP, 53, 1, bytes(many)).out;
  t.same(out.dnsAnswers, Array.from({ length: MAX_DNS_ANSWERS }, (_, i) => `10.0.0.${i + 1}`));
});

t.test('mDNS on 5353: a response without questions still gives its answers', async (t) => {
  const announce = header(0x8400, 0, 1) + dnsName('printer.local') + ' 0001 8001 00000078 0004 c0a80105';
  t.same(inspect(UDP, 5353, 5353, bytes(announce)), { found: true, out: { dnsRcode: 0, dnsAnswers: ['192.168.1.5'] } });
  t.same(inspect(UDP, 5353, 5353, bytes(QUERY)).out, { dnsQuery: 'www.example.com', dnsQtype: 1 });
});

t.test('DNS over TCP: 2-byte length first, pointers relative to the message', async (t) => {
  const msg = bytes(RESPONSE);
  const framed = bytes(hx(msg.length, 2) + RESPONSE);
  t.same(inspect(TCP, 53, 40000, framed), { found: true, out: RESPONSE_NAMES });
  t.same(inspect(TCP, 40000, 53, bytes(hx(bytes(QUERY).length, 2) + QUERY)).out, { dnsQuery: 'www.example.com', dnsQtype: 1 });
});

t.test('not DNS: other ports, bad opcodes, absurd counts, short messages', async (t) => {
  t.equal(inspect(UDP, 1, 54, bytes(QUERY)).found, false, 'port 54');
  t.equal(inspect(UDP, 1, 53, bytes(header(0x1900, 1, 0) + dnsName('a') + ' 0001 0001')).found, false, 'opcode 3');
  t.equal(inspect(UDP, 1, 53, bytes(header(0x0100, 4000, 0) + dnsName('a') + ' 0001 0001')).found, false, '4000 questions');
  t.equal(inspect(UDP, 1, 53, bytes('1234 0100 0001')).found, false, 'header cut');
  t.equal(inspect(UDP, 1, 53, bytes('16030100')).found, false, 'TLS bytes on port 53');
});

t.test('every prefix of a query and a response: no throw, nothing contradicting the whole message', async (t) => {
  for (const [name, msg, proto] of [['query', QUERY, UDP], ['response', RESPONSE, UDP], ['tcp response', hx(bytes(RESPONSE).length, 2) + RESPONSE, TCP]] as const) {
    const b = bytes(msg);
    const full = inspect(proto, 53, 1000, b).out;
    let failures = 0;
    for (let len = 0; len <= b.length; len++) {
      let r;
      try { r = inspect(proto, 53, 1000, b, len); } catch (err) { failures++; t.fail(`${name} threw at ${len}: ${String(err)}`); continue; }
      if (!consistent(r.out, full) || r.found !== Object.keys(r.out).length > 0) { failures++; t.fail(`${name} at ${len}: ${JSON.stringify(r)}`); }
      if (r.out.dnsQuery !== undefined && r.out.dnsQtype === undefined) { failures++; t.fail(`${name} at ${len}: a query without its type`); }
    }
    t.equal(failures, 0, `${name}: ${b.length + 1} prefixes`);
  }
});
