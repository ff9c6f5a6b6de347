// UDP (and UDP-Lite), ICMP and ICMPv6 headers.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent } from '../../../agent/decode/packet-meta';
import { decodeBytes, expected, hex, v4, v6, view } from './helpers';
import { ETH_DST_SRC, IPV4_ICMP_ECHO, IPV4_UDP, IPV6_ICMPV6_ECHO, IPV6_SRC_DST } from './frames';

const V4 = { etherType: 0x0800, ipVersion: 4, src: [v4('192.168.0.104'), 0, 0, 0], dst: [v4('192.168.0.1'), 0, 0, 0], ipHeaderLen: 20 };
const V6 = { etherType: 0x86dd, ipVersion: 6, src: v6('2001:db8::1'), dst: v6('2001:db8::2'), ipHeaderLen: 40 };

t.test('UDP: ports, header 8, payload from the IP total length', async (t) => {
  t.same(view(decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 0800 |' + IPV4_UDP))), expected({
    ...V4, protocol: 17, ipTotalLen: 40, ttl: 1, l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 12,
    payloadOffset: 42, capturedPayloadLen: 12,
  }));
});

t.test('UDP cut short: ports from 4 bytes, TRUNCATED_L4 below 8', async (t) => {
  for (let l4 = 0; l4 < 8; l4++) {
    const m = decodeBytes(LinkType.RAW, hex(IPV4_UDP), 20 + l4);
    t.same(view(m), expected({
      ...V4, event: DecodeEvent.TRUNCATED_L4, protocol: 17, ipTotalLen: 40, ttl: 1,
      srcPort: l4 >= 4 ? 1234 : 0, dstPort: l4 >= 4 ? 53 : 0,
    }), `${l4} UDP bytes`);
  }
});

t.test('UDP-Lite (136) has the UDP header shape', async (t) => {
  const m = decodeBytes(LinkType.RAW, hex('45 00 0024 0001 0000 40 88 0000 c0a80068 c0a80001 | 1388 1389 0008 0000 | 01020304 05060708'));
  t.same(view(m), expected({
    ...V4, protocol: 136, ipTotalLen: 36, ttl: 64, l4Valid: true, srcPort: 5000, dstPort: 5001, l4HeaderLen: 8, payloadLen: 8,
    payloadOffset: 28, capturedPayloadLen: 8,
  }));
});

t.test('ICMP echo: type, code, ports 0, header 8', async (t) => {
  t.same(view(decodeBytes(LinkType.RAW, hex(IPV4_ICMP_ECHO))), expected({
    ...V4, protocol: 1, ipTotalLen: 32, ttl: 64, l4Valid: true, l4HeaderLen: 8, payloadLen: 4, icmpType: 8, icmpCode: 0,
    payloadOffset: 28, capturedPayloadLen: 4,
  }));
  // Destination unreachable / port unreachable quoting a UDP datagram stays an ICMP packet.
  const unreach = decodeBytes(LinkType.RAW, hex('45 00 0038 0003 0000 40 01 0000 c0a80001 c0a80068 | 03 03 0000 00000000 |' +
    '45 00 0028 0002 0000 01 11 0000 c0a80068 c0a80001 04d2 0035 0014 0000'));
  t.equal(unreach.event, DecodeEvent.OK);
  t.equal(unreach.icmpType, 3);
  t.equal(unreach.icmpCode, 3);
  t.equal(unreach.srcPort, 0);
  t.equal(unreach.dstPort, 0);
  t.equal(unreach.src[0], v4('192.168.0.1'));
});

t.test('ICMP cut short: type/code from 2 bytes, TRUNCATED_L4 below 8', async (t) => {
  for (let l4 = 0; l4 < 8; l4++) {
    const m = decodeBytes(LinkType.RAW, hex(IPV4_ICMP_ECHO), 20 + l4);
    t.same(view(m), expected({
      ...V4, event: DecodeEvent.TRUNCATED_L4, protocol: 1, ipTotalLen: 32, ttl: 64, icmpType: l4 >= 2 ? 8 : 0,
    }), `${l4} ICMP bytes`);
  }
});

t.test('ICMPv6 echo request', async (t) => {
  t.same(view(decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 86dd |' + IPV6_ICMPV6_ECHO))), expected({
    ...V6, protocol: 58, ipTotalLen: 52, ttl: 255, l4Valid: true, l4HeaderLen: 8, payloadLen: 4, icmpType: 128, icmpCode: 0,
    payloadOffset: 62, capturedPayloadLen: 4,
  }));
  // Neighbour solicitation after a hop-by-hop header (as MLD reports carry).
  const ns = decodeBytes(LinkType.IPV6, hex('6000 0000 0020 00 ff ' + IPV6_SRC_DST + ' 3a 00 0502 0000 0100 | 87 00 0000 00000000 20010db8000000000000000000000002'));
  t.equal(ns.event, DecodeEvent.OK);
  t.equal(ns.protocol, 58);
  t.equal(ns.icmpType, 135);
  t.equal(ns.ipHeaderLen, 48);
  t.equal(ns.payloadLen, 16);
});
