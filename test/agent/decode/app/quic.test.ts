// QUIC long headers: the version, no decryption; what is not QUIC.
import t from 'tap';
import { isKnownQuicVersion } from '../../../../agent/decode/app/quic';
import { bytes, hx, inspect } from './app-helpers';

const UDP = 17;
/** A long-header Initial: first byte, version, DCID (8), SCID (4), then token length 0 and junk. */
const initial = (version: number, first = 'c3', dcid = 8, scid = 4) =>
  bytes(first + hx(version, 4) + hx(dcid, 1) + 'aa'.repeat(dcid) + hx(scid, 1) + 'bb'.repeat(scid) + '00 4496' + '00'.repeat(40));

t.test('QUIC v1 and v2 Initial: version, on any port', async (t) => {
  t.same(inspect(UDP, 50000, 443, initial(1)), { found: true, out: { quicVersion: 1 } });
  t.same(inspect(UDP, 50000, 4433, initial(0x6b3343cf, 'd0')), { found: true, out: { quicVersion: 0x6b3343cf } });
  t.same(inspect(UDP, 443, 50000, initial(0xff00001d, 'e0')), { found: true, out: { quicVersion: 0xff00001d } }, 'draft 29 handshake');
  t.same(inspect(UDP, 1, 443, initial(1, '80')).out, { quicVersion: 1 }, 'fixed bit greased (RFC 9287)');
  t.same(inspect(UDP, 1, 443, initial(1, 'c0', 0, 0)).out, { quicVersion: 1 }, 'empty connection ids');
});

t.test('not QUIC (or nothing to say): short headers, version negotiation, unknown versions, long ids', async (t) => {
  t.equal(inspect(UDP, 1, 443, bytes('43' + 'aa'.repeat(30))).found, false, 'short header');
  t.equal(inspect(UDP, 1, 443, initial(0)).found, false, 'version negotiation');
  t.equal(inspect(UDP, 1, 443, initial(0x1a2a3a4a)).found, false, 'a GREASE version');
  t.equal(inspect(UDP, 1, 443, initial(0x12345678)).found, false, 'unknown version');
  t.equal(inspect(UDP, 1, 443, initial(1, 'c3', 21)).found, false, 'DCID over 20 bytes');
  t.equal(inspect(UDP, 1, 443, initial(1, 'c3', 8, 21)).found, false, 'SCID over 20 bytes');
  t.equal(inspect(6, 1, 443, initial(1)).found, false, 'over TCP');
  t.ok(isKnownQuicVersion(1) && isKnownQuicVersion(0xfaceb002) && !isKnownQuicVersion(0));
});

t.test('cut at every length: the version only once both connection ids are there', async (t) => {
  const b = initial(1);
  let failures = 0;
  for (let len = 0; len <= b.length; len++) {
    const r = inspect(UDP, 1, 443, b, len);
    const want = len >= 1 + 4 + 1 + 8 + 1 + 4;
    if (r.found !== want || (want && r.out.quicVersion !== 1)) { failures++; t.fail(`at ${len}: ${JSON.stringify(r)}`); }
  }
  t.equal(failures, 0, `${b.length + 1} lengths`);
});
