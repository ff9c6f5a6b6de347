// Link layers other than Ethernet: Linux SLL/SLL2, BSD NULL/LOOP, raw IP (101, 12, 14, 228, 229),
// PPP and Cisco HDLC, NFLOG, and link types we do not decode.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent } from '../../../agent/decode/packet-meta';
import { decodeBytes, expected, hex, v4, v6, view } from './helpers';
import { IPV4_TCP_SYN_OPTS, IPV6_EXT_UDP } from './frames';

/** The IPv4 TCP SYN frame after `link` bytes of link layer. */
const syn = (link: number) => expected({
  etherType: 0x0800, ipVersion: 4, src: [v4('192.168.0.104'), 0, 0, 0], dst: [v4('192.168.0.1'), 0, 0, 0],
  protocol: 6, ipTotalLen: 60, ipHeaderLen: 20, ttl: 64, l4Valid: true, srcPort: 50000, dstPort: 80,
  tcpFlags: 0xc2, tcpWindow: 29200, l4HeaderLen: 40, payloadLen: 0,
  tcpSeq: 1, tcpMss: 1460, tcpWscale: 7, tcpSackOk: true, tcpTimestamps: true, payloadOffset: link + 60,
});
/** The IPv6 UDP frame with extension headers after `link` bytes of link layer. */
const v6udp = (link: number) => expected({
  etherType: 0x86dd, ipVersion: 6, src: v6('2001:db8::1'), dst: v6('2001:db8::2'), protocol: 17, ipTotalLen: 76,
  ipHeaderLen: 64, ttl: 64, l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 4,
  payloadOffset: link + 72, capturedPayloadLen: 4,
});

t.test('Linux SLL: 16-byte header, protocol at offset 14', async (t) => {
  const frame = hex('0000 0001 0006 0011223344550000 0800 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.LINUX_SLL, frame)), syn(16));
  const v6frame = hex('0004 0001 0006 0011223344550000 86dd |' + IPV6_EXT_UDP);
  t.same(view(decodeBytes(LinkType.LINUX_SLL, v6frame)), v6udp(16));
  const arp = decodeBytes(LinkType.LINUX_SLL, hex('0000 0001 0006 0011223344550000 0806 0001'));
  t.same(view(arp), expected({ event: DecodeEvent.NOT_IP, etherType: 0x0806 }));
  t.equal(decodeBytes(LinkType.LINUX_SLL, hex('0000 0001 0006 0011223344550000 08')).event, DecodeEvent.TRUNCATED_L2);
});

t.test('Linux SLL2: 20-byte header, protocol at offset 0', async (t) => {
  const frame = hex('0800 0000 00000002 0001 00 06 0011223344550000 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.LINUX_SLL2, frame)), syn(20));
  const v6frame = hex('86dd 0000 00000002 0001 04 06 0011223344550000 |' + IPV6_EXT_UDP);
  t.same(view(decodeBytes(LinkType.LINUX_SLL2, v6frame)), v6udp(20));
  // A VLAN tag left in place by the kernel is walked like on Ethernet.
  const tagged = hex('8100 0000 00000002 0001 00 06 0011223344550000 | 0123 0800 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.LINUX_SLL2, tagged)), { ...syn(24), vlanId: 0x123 });
  t.equal(decodeBytes(LinkType.LINUX_SLL2, hex('0800 0000 00000002 0001 00 06 00112233445500')).event, DecodeEvent.TRUNCATED_L2);
});

t.test('BSD NULL: family in either byte order; 2 = IPv4, 24/28/30 = IPv6', async (t) => {
  t.same(view(decodeBytes(LinkType.NULL, hex('02000000 |' + IPV4_TCP_SYN_OPTS))), syn(4));
  t.same(view(decodeBytes(LinkType.NULL, hex('00000002 |' + IPV4_TCP_SYN_OPTS))), syn(4));
  for (const fam of ['18000000', '1c000000', '1e000000', '00000018', '0000001c', '0000001e']) {
    t.same(view(decodeBytes(LinkType.NULL, hex(fam + ' |' + IPV6_EXT_UDP))), v6udp(4), `family ${fam}`);
  }
  t.same(view(decodeBytes(LinkType.NULL, hex('07000000 |' + IPV4_TCP_SYN_OPTS))), expected({ event: DecodeEvent.NOT_IP }));
  t.same(view(decodeBytes(LinkType.NULL, hex('02000002 |' + IPV4_TCP_SYN_OPTS))), expected({ event: DecodeEvent.NOT_IP }));
  t.equal(decodeBytes(LinkType.NULL, hex('020000')).event, DecodeEvent.TRUNCATED_L2);
});

t.test('BSD LOOP: family in network order only', async (t) => {
  t.same(view(decodeBytes(LinkType.LOOP, hex('00000002 |' + IPV4_TCP_SYN_OPTS))), syn(4));
  t.same(view(decodeBytes(LinkType.LOOP, hex('0000001c |' + IPV6_EXT_UDP))), v6udp(4));
  t.equal(decodeBytes(LinkType.LOOP, hex('02000000 |' + IPV4_TCP_SYN_OPTS)).event, DecodeEvent.NOT_IP);
  t.equal(decodeBytes(LinkType.LOOP, hex('000000')).event, DecodeEvent.TRUNCATED_L2);
});

t.test('raw IP: 101, 12 and 14 pick the version from the nibble; 228/229 fix it', async (t) => {
  for (const lt of [LinkType.RAW, 12, 14]) {
    t.same(view(decodeBytes(lt, hex(IPV4_TCP_SYN_OPTS))), syn(0), `link type ${lt} v4`);
    t.same(view(decodeBytes(lt, hex(IPV6_EXT_UDP))), v6udp(0), `link type ${lt} v6`);
    t.same(view(decodeBytes(lt, hex('55 00 0014'))), expected({ event: DecodeEvent.BAD_IP_VERSION }));
    t.same(view(decodeBytes(lt, new Uint8Array(0))), expected({ event: DecodeEvent.TRUNCATED_L3 }));
  }
  t.same(view(decodeBytes(LinkType.IPV4, hex(IPV4_TCP_SYN_OPTS))), syn(0));
  t.same(view(decodeBytes(LinkType.IPV6, hex(IPV6_EXT_UDP))), v6udp(0));
  // The link type names the network layer, so etherType says what was expected there.
  t.same(view(decodeBytes(LinkType.IPV4, hex(IPV6_EXT_UDP))), expected({ event: DecodeEvent.BAD_IP_VERSION, etherType: 0x0800 }));
  t.same(view(decodeBytes(LinkType.IPV6, hex(IPV4_TCP_SYN_OPTS))), expected({ event: DecodeEvent.BAD_IP_VERSION, etherType: 0x86dd }));
});

t.test('PPP (9, 50) with and without address/control, compressed protocol; Cisco HDLC (104)', async (t) => {
  t.same(view(decodeBytes(LinkType.PPP, hex('ff03 0021 |' + IPV4_TCP_SYN_OPTS))), syn(4));
  t.same(view(decodeBytes(LinkType.PPP, hex('0021 |' + IPV4_TCP_SYN_OPTS))), syn(2));
  t.same(view(decodeBytes(LinkType.PPP, hex('21 |' + IPV4_TCP_SYN_OPTS))), syn(1));
  t.same(view(decodeBytes(LinkType.PPP_HDLC, hex('ff03 0057 |' + IPV6_EXT_UDP))), v6udp(4));
  t.same(view(decodeBytes(LinkType.PPP, hex('ff03 c021 0101 0004'))), expected({ event: DecodeEvent.NOT_IP }));
  t.equal(decodeBytes(LinkType.PPP, hex('ff03 00')).event, DecodeEvent.TRUNCATED_L2);
  t.same(view(decodeBytes(LinkType.C_HDLC, hex('0f00 0800 |' + IPV4_TCP_SYN_OPTS))), syn(4));
  t.same(view(decodeBytes(LinkType.C_HDLC, hex('8f00 8035 00000000'))), expected({ event: DecodeEvent.NOT_IP, etherType: 0x8035 }));
});

t.test('NFLOG (239): TLVs in either byte order walked to NFULA_PAYLOAD, family picks the IP version', async (t) => {
  // Header: AF_INET, version 0, resource id 42; TLVs (little-endian): packet header (8), prefix "x\0"
  // padded (8), payload (4 + 60).
  const le = hex('02 00 002a | 0800 0100 0800 0100 | 0600 0a00 7800 0000 | 4000 0900 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.NFLOG, le)), syn(24));
  const be = hex('02 00 002a | 0008 0001 0800 0100 | 0006 000a 7800 0000 | 0040 0009 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.NFLOG, be)), syn(24));
  const v6frame = hex('0a 00 0000 | 5000 0900 |' + IPV6_EXT_UDP);
  t.same(view(decodeBytes(LinkType.NFLOG, v6frame)), v6udp(8));
  // The payload TLV bounds the packet; a snaplen cut inside it still decodes what is there.
  t.equal(decodeBytes(LinkType.NFLOG, le, 24 + 30).event, DecodeEvent.TRUNCATED_L4);
  // Another family, no payload TLV, a TLV longer than the frame, a cut header.
  t.equal(decodeBytes(LinkType.NFLOG, hex('07 00 0000 | 4000 0900 |' + IPV4_TCP_SYN_OPTS)).event, DecodeEvent.NOT_IP);
  t.equal(decodeBytes(LinkType.NFLOG, hex('02 00 0000 | 0800 0100 0800 0100')).event, DecodeEvent.NOT_IP);
  t.equal(decodeBytes(LinkType.NFLOG, hex('02 00 0000 | 0001 0100 0000 0000')).event, DecodeEvent.TRUNCATED_L2);
  t.equal(decodeBytes(LinkType.NFLOG, hex('02 00 00')).event, DecodeEvent.TRUNCATED_L2);
  t.equal(decodeBytes(LinkType.NFLOG, hex('02 00 0000 | 0200 0100')).event, DecodeEvent.TRUNCATED_L2);
});

t.test('link types we do not decode: UNSUPPORTED_LINKTYPE, nothing else set', async (t) => {
  for (const lt of [105, 127, 129, 192, 282, -1, 65535, 1e9]) {
    t.same(view(decodeBytes(lt, hex(IPV4_TCP_SYN_OPTS))), expected({ event: DecodeEvent.UNSUPPORTED_LINKTYPE }), `link type ${lt}`);
  }
});

t.test('decodeFrame bounds: caplen 0, caplen past the buffer, start past the end', async (t) => {
  const frame = hex('0000 0001 0006 0011223344550000 0800 |' + IPV4_TCP_SYN_OPTS);
  t.equal(decodeBytes(LinkType.LINUX_SLL, frame, 0).event, DecodeEvent.TRUNCATED_L2);
  // caplen larger than the bytes there: decodes what the buffer holds, reads nothing beyond it.
  const m = decodeBytes(LinkType.LINUX_SLL, frame, frame.length + 1000);
  t.equal(m.event, DecodeEvent.OK);
});
