// Ethernet and what can sit between it and IP: 802.1Q/802.1ad tags, LLC/SNAP, MPLS, PPPoE.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent } from '../../../agent/decode/packet-meta';
import { MAX_ENCAPSULATION_DEPTH } from '../../../agent/decode/network';
import { decodeBytes, expected, hex, v4, v6, view } from './helpers';
import { ETH_DST_SRC, ETH_IPV4_TCP_SYN, IPV4_TCP_DATA, IPV4_TCP_SYN_OPTS, IPV4_UDP, IPV6_EXT_UDP } from './frames';

const SRC = [v4('192.168.0.104'), 0, 0, 0];
const DST = [v4('192.168.0.1'), 0, 0, 0];

/** What the IPv4 TCP SYN frame decodes to after `link` bytes of link layer (tags, shims). */
const syn = (link: number) => expected({
  etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 6, ipTotalLen: 60, ipHeaderLen: 20, ttl: 64,
  l4Valid: true, srcPort: 50000, dstPort: 80, tcpFlags: 0xc2, tcpWindow: 29200, l4HeaderLen: 40, payloadLen: 0,
  tcpSeq: 1, tcpMss: 1460, tcpWscale: 7, tcpSackOk: true, tcpTimestamps: true, payloadOffset: link + 60,
});
const SYN = syn(14);

t.test('Ethernet II + IPv4 + TCP with options: every field', async (t) => {
  t.same(view(decodeBytes(LinkType.ETHERNET, hex(ETH_IPV4_TCP_SYN))), SYN);
});

t.test('Ethernet padding after a short IP packet is not payload', async (t) => {
  const frame = hex(ETH_DST_SRC + ' 0800 |' + IPV4_TCP_DATA + '| 00');   // 60-byte minimum frame
  t.same(view(decodeBytes(LinkType.ETHERNET, frame)), expected({
    etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 6, ipTotalLen: 45, ipHeaderLen: 20, ttl: 128,
    l4Valid: true, srcPort: 50000, dstPort: 80, tcpFlags: 0x18, tcpWindow: 65535, l4HeaderLen: 20, payloadLen: 5,
    tcpSeq: 2, tcpAck: 3, payloadOffset: 54, capturedPayloadLen: 5,
  }));
});

t.test('802.1Q tag: vlan id, inner EtherType', async (t) => {
  const frame = hex(ETH_DST_SRC + ' 8100 | 2064 0800 |' + IPV4_TCP_SYN_OPTS);   // PCP 1, VID 100
  t.same(view(decodeBytes(LinkType.ETHERNET, frame)), { ...syn(18), vlanId: 100 });
});

t.test('802.1ad QinQ and the old 0x9100 form: the OUTERMOST id is kept', async (t) => {
  const qinq = hex(ETH_DST_SRC + ' 88a8 | 00c8 8100 | 0064 0800 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.ETHERNET, qinq)), { ...syn(22), vlanId: 200 });
  const old = hex(ETH_DST_SRC + ' 9100 | 0fff 8100 | 0001 0800 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.ETHERNET, old)), { ...syn(22), vlanId: 4095 });
});

t.test('VLAN nesting past the limit is TOO_MANY_HEADERS', async (t) => {
  const tags = (n: number) => Array.from({ length: n }, (_, i) => `00${(i + 1).toString(16).padStart(2, '0')} 8100`).join(' ');
  const ok = hex(ETH_DST_SRC + ' 8100 ' + tags(MAX_ENCAPSULATION_DEPTH - 1).slice(0, -4) + '0800 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.ETHERNET, ok)), { ...syn(14 + 4 * (MAX_ENCAPSULATION_DEPTH - 1)), vlanId: 1 });
  const deep = hex(ETH_DST_SRC + ' 8100 ' + tags(MAX_ENCAPSULATION_DEPTH) + ' 0064 0800 |' + IPV4_TCP_SYN_OPTS);
  const m = decodeBytes(LinkType.ETHERNET, deep);
  t.equal(m.event, DecodeEvent.TOO_MANY_HEADERS);
  t.equal(m.vlanId, 1);
  t.equal(m.ipVersion, 0);
});

t.test('IPv6 with extension headers over Ethernet', async (t) => {
  t.same(view(decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 86dd |' + IPV6_EXT_UDP))), expected({
    etherType: 0x86dd, ipVersion: 6, src: v6('2001:db8::1'), dst: v6('2001:db8::2'), protocol: 17, ipTotalLen: 76,
    ipHeaderLen: 64, ttl: 64, l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 4,
    payloadOffset: 86, capturedPayloadLen: 4,
  }));
});

t.test('802.3 length + LLC/SNAP carrying IPv4; plain LLC is NOT_IP', async (t) => {
  const snap = hex(ETH_DST_SRC + ' 0044 | aaaa03 000000 0800 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.ETHERNET, snap)), syn(22));
  const stp = hex(ETH_DST_SRC + ' 0026 | 424203 0000 00 00 8000001122334455 00000000');
  t.same(view(decodeBytes(LinkType.ETHERNET, stp)), expected({ event: DecodeEvent.NOT_IP }));
});

t.test('ARP and other EtherTypes are NOT_IP with the EtherType kept', async (t) => {
  const arp = hex(ETH_DST_SRC + ' 0806 | 0001 0800 06 04 0001 66778899aabb c0a80068 000000000000 c0a80001');
  t.same(view(decodeBytes(LinkType.ETHERNET, arp)), expected({ event: DecodeEvent.NOT_IP, etherType: 0x0806 }));
  const lldp = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 88cc 0000'));
  t.equal(lldp.event, DecodeEvent.NOT_IP);
  t.equal(lldp.etherType, 0x88cc);
});

t.test('MPLS: labels popped to bottom of stack, then IP by nibble or explicit null', async (t) => {
  // label 16 (S=0) then label 17 (S=1), TTL 64, then IPv4.
  const two = hex(ETH_DST_SRC + ' 8847 | 00010040 00011140 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.ETHERNET, two)), syn(22));
  // IPv6 explicit null (label 2, S=1).
  const m6 = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8847 | 00002140 |' + IPV6_EXT_UDP));
  t.equal(m6.event, DecodeEvent.OK);
  t.equal(m6.ipVersion, 6);
  t.equal(m6.dstPort, 53);
  // A pseudowire control word (first nibble 0) is not IP.
  const pw = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8847 | 00011140 | 00000000 ' + ETH_DST_SRC + ' 0800'));
  t.equal(pw.event, DecodeEvent.NOT_IP);
  // 17 labels without bottom of stack.
  const deep = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8847 ' + '00010040'.repeat(17) + IPV4_TCP_SYN_OPTS.replace(/\|/g, '')));
  t.equal(deep.event, DecodeEvent.TOO_MANY_HEADERS);
  // Stack cut short.
  t.equal(decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8847 | 000100')).event, DecodeEvent.TRUNCATED_L2);
});

t.test('PPPoE session: PPP IPv4 and IPv6 decoded, LCP is NOT_IP', async (t) => {
  const v4frame = hex(ETH_DST_SRC + ' 8864 | 11 00 1234 003e | 0021 |' + IPV4_TCP_SYN_OPTS);
  t.same(view(decodeBytes(LinkType.ETHERNET, v4frame)), syn(22));
  const v6frame = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8864 | 11 00 1234 004e | 0057 |' + IPV6_EXT_UDP));
  t.equal(v6frame.ipVersion, 6);
  t.equal(v6frame.protocol, 17);
  const lcp = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8864 | 11 00 1234 0006 | c021 01 01 0004'));
  t.equal(lcp.event, DecodeEvent.NOT_IP);
  const discovery = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8863 | 11 09 0000 0000'));
  t.equal(discovery.event, DecodeEvent.NOT_IP);
});

t.test('a second VLAN-tagged UDP frame: the meta is fully reset between packets', async (t) => {
  const m = decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 8100 | 0064 0800 |' + IPV4_TCP_SYN_OPTS));
  decodeBytes(LinkType.ETHERNET, hex(ETH_DST_SRC + ' 0800 |' + IPV4_UDP), undefined, m);
  t.same(view(m), expected({
    etherType: 0x0800, ipVersion: 4, src: SRC, dst: DST, protocol: 17, ipTotalLen: 40, ipHeaderLen: 20, ttl: 1,
    l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 12, payloadOffset: 42, capturedPayloadLen: 12,
  }));
});
