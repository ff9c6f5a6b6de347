// IPv4 header: version, IHL, options, total length (TSO 0), fragments, snaplen-cut packets.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent } from '../../../agent/decode/packet-meta';
import { decodeBytes, expected, hex, v4, view } from './helpers';
import { IPV4_TCP_SYN_OPTS, IPV4_UDP } from './frames';

const SRC = [v4('192.168.0.104'), 0, 0, 0];
const DST = [v4('192.168.0.1'), 0, 0, 0];
const raw = (h: string, caplen?: number) => decodeBytes(LinkType.RAW, hex(h), caplen);

t.test('addresses are big-endian signed int32 words', async (t) => {
  const m = raw('45 00 001c 0000 0000 40 11 0000 ffffffff 0a000001 | 0044 0043 0008 0000');
  t.equal(m.src[0], -1);
  t.equal(m.dst[0], 0x0a000001);
  t.same(Array.from(m.src.subarray(1)), [0, 0, 0]);
  t.same(Array.from(m.dst.subarray(1)), [0, 0, 0]);
});

t.test('header with options (IHL 6): ipHeaderLen 24, transport after the options', async (t) => {
  const m = raw('46 00 0024 0001 0000 40 11 0000 c0a80068 c0a80001 01010100 | 04d2 0035 000c 0000 | 01020304');
  t.same(view(m), expected({
    etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 17, ipTotalLen: 36, ipHeaderLen: 24, ttl: 64,
    l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 4, payloadOffset: 32, capturedPayloadLen: 4,
  }));
});

t.test('bad version, IHL below 5, total length below the header', async (t) => {
  // Ethernet says IPv4 but the nibble says 6.
  const eth = decodeBytes(LinkType.ETHERNET, hex('001122334455 66778899aabb 0800 | 65 00 0014 0000 0000 40 06 0000 c0a80068 c0a80001'));
  t.same(view(eth), expected({ event: DecodeEvent.BAD_IP_VERSION, etherType: 0x0800 }));
  t.same(view(raw('44 00 0014 0000 0000 40 06 0000 c0a80068 c0a80001')), expected({ event: DecodeEvent.BAD_IP_HEADER_LEN, etherType: 0x0800 }));
  t.same(view(raw('45 00 0010 0000 0000 40 06 0000 c0a80068 c0a80001 c350 0050')), expected({
    event: DecodeEvent.BAD_IP_TOTAL_LEN, etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 6,
    ipTotalLen: 16, ipHeaderLen: 20, ttl: 64,
  }));
});

t.test('header cut by the capture: TRUNCATED_L3 (fixed fields kept when 20 bytes are there)', async (t) => {
  t.same(view(raw('45 00 003c 1c46 4000 40 06 b1e6 c0a80068 c0a800')), expected({ event: DecodeEvent.TRUNCATED_L3, etherType: 0x0800 }));
  const opts = raw('46 00 0024 0001 0000 40 11 0000 c0a80068 c0a80001 0101');
  t.same(view(opts), expected({
    event: DecodeEvent.TRUNCATED_L3, etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 17,
    ipTotalLen: 36, ipHeaderLen: 24, ttl: 64,
  }));
});

t.test('snaplen shorter than the packet: lengths come from the header', async (t) => {
  // 1500-byte TCP segment captured to 54 bytes of IP.
  const m = raw('45 00 05dc 0001 4000 40 06 0000 c0a80068 c0a80001 | c350 0050 00000001 00000001 50 10 ffff 0000 0000 | 0000', 42);
  t.same(view(m), expected({
    etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 6, ipTotalLen: 1500, ipHeaderLen: 20, ttl: 64,
    l4Valid: true, srcPort: 50000, dstPort: 80, tcpFlags: 0x10, tcpWindow: 65535, l4HeaderLen: 20, payloadLen: 1460,
    tcpSeq: 1, tcpAck: 1, payloadOffset: 40, capturedPayloadLen: 2,
  }));
});

t.test('total length 0 (TSO/GSO capture): the captured bytes are the packet', async (t) => {
  const m = raw('45 00 0000 0001 4000 40 06 0000 c0a80068 c0a80001 | c350 0050 00000001 00000001 50 18 ffff 0000 0000 | 0102030405060708');
  t.equal(m.event, DecodeEvent.OK);
  t.equal(m.ipTotalLen, 48);
  t.equal(m.payloadLen, 8);
  t.equal(m.l4Valid, true);
});

t.test('fragments: first fragment decodes ports, later ones are IP_FRAGMENT', async (t) => {
  const first = raw('45 00 0028 0002 2000 01 11 0000 c0a80068 c0a80001 | 04d2 0035 0100 0000 | 000102030405060708090a0b');
  t.same(view(first), expected({
    etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 17, ipTotalLen: 40, ipHeaderLen: 20, ttl: 1,
    isFragment: true, l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 12,
    payloadOffset: 28, capturedPayloadLen: 12,
  }));
  for (const flags of ['00b9', '20b9', '0001']) {   // last fragment, middle fragment, offset 8 bytes
    const later = raw(`45 00 0028 0002 ${flags} 01 11 0000 c0a80068 c0a80001 | 04d2 0035 0100 0000 | 000102030405060708090a0b`);
    t.same(view(later), expected({
      event: DecodeEvent.IP_FRAGMENT, etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 17,
      ipTotalLen: 40, ipHeaderLen: 20, ttl: 1, isFragment: true,
    }), `flags/offset ${flags}`);
  }
  // DF alone is not a fragment.
  t.equal(decodeBytes(LinkType.RAW, hex(IPV4_TCP_SYN_OPTS)).isFragment, false);
});

t.test('protocols without a decoder: L3 valid, l4Valid false, event OK', async (t) => {
  for (const proto of ['84', '2f', '32', 'ff']) {   // SCTP, GRE (protocol type 0: not entered), ESP, reserved
    const m = raw(`45 00 0028 0002 0000 40 ${proto} 0000 c0a80068 c0a80001 | 0000000000000000000000000000000000000000`);
    t.same(view(m), expected({
      etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: parseInt(proto, 16), ipTotalLen: 40,
      ipHeaderLen: 20, ttl: 64,
    }), `protocol 0x${proto}`);
  }
  // IP-in-IP and IPv6-in-IPv4 with garbage inside: the carrier as it is, the inner packet counted as bad.
  for (const proto of ['04', '29']) {
    const m = raw(`45 00 0028 0002 0000 40 ${proto} 0000 c0a80068 c0a80001 | 0000000000000000000000000000000000000000`);
    t.same(view(m), expected({
      event: DecodeEvent.TUNNEL_INNER_INVALID, etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST,
      protocol: parseInt(proto, 16), ipTotalLen: 40, ipHeaderLen: 20, ttl: 64,
    }), `protocol 0x${proto}`);
  }
});

t.test('bytes captured after the IP packet are not payload', async (t) => {
  const m = raw(IPV4_UDP + ' 000000');
  t.equal(m.payloadLen, 12);
  t.equal(m.ttl, 1);
});
