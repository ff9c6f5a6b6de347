// The dispatcher: content and ports pick the parser; bounds; `out` untouched when nothing is found.
import t from 'tap';
import { inspectPayload } from '../../../../agent/decode/app/inspect';
import type { AppNames } from '../../../../agent/decode/app/app-names';
import { ascii, bytes, dnsName, inspect } from './app-helpers';

const DNS_QUERY = bytes('1234 0100 0001 0000 0000 0000' + dnsName('a.example') + '0001 0001');
const HTTP = bytes(ascii('GET / HTTP/1.1\r\nHost: h.example\r\n\r\n'));

t.test('content decides on TCP; ports decide DNS', async (t) => {
  t.same(inspect(6, 1, 53, bytes('0021' + Buffer.from(DNS_QUERY).toString('hex'))).out, { dnsQuery: 'a.example', dnsQtype: 1 });
  t.same(inspect(17, 53, 1, DNS_QUERY).out, { dnsQuery: 'a.example', dnsQtype: 1 });
  t.equal(inspect(17, 1, 2, DNS_QUERY).found, false, 'DNS bytes off port 53/5353');
  t.same(inspect(6, 1, 443, HTTP).out, { httpMethod: 'GET', httpHost: 'h.example' }, 'HTTP on 443 (content, not port)');
  t.equal(inspect(17, 1, 80, HTTP).found, false, 'HTTP over UDP');
  t.equal(inspect(132, 1, 80, HTTP).found, false, 'SCTP');
  t.equal(inspect(6, 1, 53, HTTP).found, false, 'port 53 over TCP is DNS only (after TLS)');
});

t.test('bounds: empty, negative or past-the-buffer lengths; out untouched when nothing is found', async (t) => {
  const buf = new Uint8Array(64).fill(0x47);
  buf.set(HTTP.subarray(0, 12), 10);   // the request line cut before its end
  const out: AppNames = {};
  t.equal(inspectPayload(6, 1, 80, buf, 10, 0, out), false);
  t.equal(inspectPayload(6, 1, 80, buf, 10, -5, out), false);
  t.equal(inspectPayload(6, 1, 80, buf, -1, 10, out), false);
  t.equal(inspectPayload(6, 1, 80, buf, 100, 10, out), false);
  t.equal(inspectPayload(6, 1, 80, buf, 10, 1000, out), false, 'length past the buffer: bounded, and this request line is cut');
  t.same(out, {});
  t.equal(inspectPayload(6, 1, 80, buf, Number.NaN, 10, out), false);
  t.same(out, {});
});
