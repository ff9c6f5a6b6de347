// Tunnels: GRE (key, checksum, sequence, TEB, ERSPAN I/II/III, PPTP), VXLAN, Geneve, GTP-U, IP-in-IP
// (4/41 in IPv4 and IPv6), Teredo. The record is the inner packet; tunnelType/tunnelId name the
// outermost tunnel; vlanId stays the outer frame's; a bad inner packet falls back to the carrier.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent, TunnelType } from '../../../agent/decode/packet-meta';
import { MAX_TUNNEL_DEPTH } from '../../../agent/decode/tunnel';
import { type MetaView, decodeBytes, expected, hex, v4, v6, view } from './helpers';
import {
  ETH_DST_SRC, IPV4_TCP_SYN_OPTS, IPV6_EXT_UDP, hexLen, ipv4, ipv6, udp,
} from './frames';

const ETH = ETH_DST_SRC + ' 0800 |';
const ETH6 = ETH_DST_SRC + ' 86dd |';
/** The inner Ethernet frame of TEB/VXLAN/Geneve/ERSPAN: Ethernet + the IPv4 TCP SYN. */
const INNER_ETH = ETH_DST_SRC + ' 0800 |' + IPV4_TCP_SYN_OPTS;

/** The IPv4 TCP SYN as the record, its IP header `at` bytes into the frame. */
const syn = (at: number, tunnelType: number, tunnelId = -1, extra: Partial<MetaView> = {}) => expected({
  etherType: 0x0800, ipVersion: 4, src: [v4('192.168.0.104'), 0, 0, 0], dst: [v4('192.168.0.1'), 0, 0, 0],
  protocol: 6, ipTotalLen: 60, ipHeaderLen: 20, ttl: 64, l4Valid: true, srcPort: 50000, dstPort: 80,
  tcpFlags: 0xc2, tcpWindow: 29200, l4HeaderLen: 40, payloadLen: 0, tcpSeq: 1, tcpMss: 1460, tcpWscale: 7,
  tcpSackOk: true, tcpTimestamps: true, payloadOffset: at + 60, tunnelType, tunnelId, ...extra,
});

/** The IPv6 UDP packet with extension headers as the record, its IP header `at` bytes into the frame. */
const v6udp = (at: number, tunnelType: number, tunnelId = -1) => expected({
  etherType: 0x86dd, ipVersion: 6, src: v6('2001:db8::1'), dst: v6('2001:db8::2'), protocol: 17, ipTotalLen: 76,
  ipHeaderLen: 64, ttl: 64, l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 4,
  payloadOffset: at + 72, capturedPayloadLen: 4, tunnelType, tunnelId,
});

const eth = (h: string) => view(decodeBytes(LinkType.ETHERNET, hex(h)));

interface TunnelCase { name: string; frame: string; want: MetaView }

const cases: TunnelCase[] = [
  { name: 'GRE, no options, IPv4', frame: ETH + ipv4(47, '0000 0800 |' + IPV4_TCP_SYN_OPTS), want: syn(38, TunnelType.GRE) },
  {
    name: 'GRE with checksum, key and sequence number: the key is the id',
    frame: ETH + ipv4(47, 'b000 0800 | 0000 0000 | 01020304 | 00000007 |' + IPV4_TCP_SYN_OPTS),
    want: syn(50, TunnelType.GRE, 0x01020304),
  },
  {
    name: 'GRE transparent Ethernet bridging (0x6558) with key',
    frame: ETH + ipv4(47, '2000 6558 | 0000002a |' + INNER_ETH), want: syn(56, TunnelType.GRE, 42),
  },
  {
    name: 'GRE with MPLS (0x8847) inside',
    frame: ETH + ipv4(47, '0000 8847 | 00011140 |' + IPV4_TCP_SYN_OPTS), want: syn(42, TunnelType.GRE),
  },
  { name: 'ERSPAN type I (0x88be, no sequence)', frame: ETH + ipv4(47, '0000 88be |' + INNER_ETH), want: syn(52, TunnelType.GRE) },
  {
    name: 'ERSPAN type II: session id as tunnel id',
    frame: ETH + ipv4(47, '1000 88be | 00000001 | 1000 0064 00000000 |' + INNER_ETH), want: syn(64, TunnelType.GRE, 100),
  },
  {
    name: 'ERSPAN type III, with and without the platform subheader',
    frame: ETH + ipv4(47, '1000 22eb | 00000001 | 2000 0007 00000000 0000 0000 |' + INNER_ETH), want: syn(68, TunnelType.GRE, 7),
  },
  {
    name: 'ERSPAN type III with the O flag: 8 more bytes',
    frame: ETH + ipv4(47, '1000 22eb | 00000001 | 2000 0007 00000000 0000 0001 | 0000000000000000 |' + INNER_ETH),
    want: syn(76, TunnelType.GRE, 7),
  },
  {
    name: 'PPTP enhanced GRE (version 1) carrying PPP IPv4: the call id is the id',
    frame: ETH + ipv4(47, '3001 880b 003e 0005 | 00000001 | ff03 0021 |' + IPV4_TCP_SYN_OPTS), want: syn(50, TunnelType.GRE, 5),
  },
  {
    name: 'VXLAN: VNI as id, inner Ethernet',
    frame: ETH + ipv4(17, udp(12345, 4789, '08000000 00007b00 |' + INNER_ETH)), want: syn(64, TunnelType.VXLAN, 123),
  },
  {
    name: 'VXLAN over IPv6',
    frame: ETH6 + ipv6(17, udp(12345, 4789, '08000000 ffffff00 |' + INNER_ETH)), want: syn(84, TunnelType.VXLAN, 0xffffff),
  },
  {
    name: 'Geneve with 8 bytes of options, inner Ethernet',
    frame: ETH + ipv4(17, udp(5000, 6081, '02 00 6558 000457 00 | 0102 03 01 00000000 |' + INNER_ETH)),
    want: syn(72, TunnelType.GENEVE, 0x457),
  },
  {
    name: 'Geneve carrying IPv4 directly (protocol 0x0800)',
    frame: ETH + ipv4(17, udp(5000, 6081, '00 00 0800 000001 00 |' + IPV4_TCP_SYN_OPTS)), want: syn(50, TunnelType.GENEVE, 1),
  },
  {
    name: 'GTP-U G-PDU with sequence number: TEID as id (unsigned)',
    frame: ETH + ipv4(17, udp(2152, 2152, '32 ff 0040 deadbeef | 1234 00 00 |' + IPV4_TCP_SYN_OPTS)),
    want: syn(54, TunnelType.GTP_U, 0xdeadbeef),
  },
  {
    name: 'GTP-U with an extension header (PDU session container)',
    frame: ETH + ipv4(17, udp(40000, 2152, '34 ff 0044 00000001 | 0000 00 85 | 01 10 05 00 |' + IPV4_TCP_SYN_OPTS)),
    want: syn(58, TunnelType.GTP_U, 1),
  },
  {
    name: 'GTP-U carrying IPv6',
    frame: ETH + ipv4(17, udp(2152, 2152, `30 ff ${(76).toString(16).padStart(4, '0')} 00000009 |` + IPV6_EXT_UDP)),
    want: v6udp(50, TunnelType.GTP_U, 9),
  },
  { name: 'IPv4 in IPv4 (protocol 4)', frame: ETH + ipv4(4, IPV4_TCP_SYN_OPTS), want: syn(34, TunnelType.IP_IN_IP) },
  { name: 'IPv6 in IPv4 (6in4, protocol 41)', frame: ETH + ipv4(41, IPV6_EXT_UDP), want: v6udp(34, TunnelType.IP_IN_IP) },
  { name: 'IPv4 in IPv6 (protocol 4)', frame: ETH6 + ipv6(4, IPV4_TCP_SYN_OPTS), want: syn(54, TunnelType.IP_IN_IP) },
  { name: 'IPv6 in IPv6 (protocol 41)', frame: ETH6 + ipv6(41, IPV6_EXT_UDP), want: v6udp(54, TunnelType.IP_IN_IP) },
  {
    name: 'Teredo with an origin indication',
    frame: ETH + ipv4(17, udp(3544, 50000, '0000 f227 3f57f0fe |' + IPV6_EXT_UDP)), want: v6udp(50, TunnelType.TEREDO),
  },
  {
    name: 'Teredo with an authentication indicator (client id 2, auth 1) then IPv6',
    frame: ETH + ipv4(17, udp(50000, 3544, '0001 02 01 aabb cc 0102030405060708 00 |' + IPV6_EXT_UDP)),
    want: v6udp(58, TunnelType.TEREDO),
  },
  {
    name: 'nested: GRE (key 9) → IPv4 → UDP → VXLAN → Ethernet: the outermost tunnel is named',
    frame: ETH + ipv4(47, '2000 0800 | 00000009 |' + ipv4(17, udp(1, 4789, '08000000 00000100 |' + INNER_ETH))),
    want: syn(14 + 20 + 8 + 20 + 8 + 8 + 14, TunnelType.GRE, 9),
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.same(eth(c.frame), c.want);
  });
}

t.test('vlanId stays the outer frame\'s: inner tags are not recorded', async (t) => {
  const innerTagged = ETH_DST_SRC + ' 8100 00c8 0800 |' + IPV4_TCP_SYN_OPTS;
  const outerTagged = ETH_DST_SRC + ' 8100 0064 0800 |' + ipv4(17, udp(1, 4789, '08000000 00000500 |' + innerTagged));
  t.same(eth(outerTagged), syn(4 + 20 + 8 + 8 + 18 + 14, TunnelType.VXLAN, 5, { vlanId: 100 }));
  const untagged = ETH + ipv4(17, udp(1, 4789, '08000000 00000500 |' + innerTagged));
  t.same(eth(untagged), syn(20 + 8 + 8 + 18 + 14, TunnelType.VXLAN, 5));
});

t.test('not tunnels: the carrier stays the record, event OK', async (t) => {
  const plain = (frame: string, protocol: number) => {
    const m = eth(frame);
    t.equal(m.event, DecodeEvent.OK, 'event');
    t.equal(m.tunnelType, TunnelType.NONE, 'no tunnel');
    t.same(m.src, [v4('10.0.0.1'), 0, 0, 0], 'outer source');
    t.equal(m.protocol, protocol, 'outer protocol');
  };
  plain(ETH + ipv4(17, udp(1, 4789, '00000000 00007b00 |' + INNER_ETH)), 17);            // VXLAN without the I flag
  plain(ETH + ipv4(17, udp(4789, 1, '08000000 00007b00 |' + INNER_ETH)), 17);            // 4789 as the source port
  plain(ETH + ipv4(17, udp(1, 6081, '40 00 6558 000457 00 |' + INNER_ETH)), 17);         // Geneve version 1
  plain(ETH + ipv4(17, udp(1, 6081, '00 00 88cc 000457 00 |' + INNER_ETH)), 17);         // Geneve carrying LLDP
  plain(ETH + ipv4(17, udp(2152, 2152, '32 01 0004 00000000 1234 0000')), 17);           // GTP echo request
  plain(ETH + ipv4(17, udp(2152, 53, '6bcb 0100 0001 0000 0000 0000 04616263 6400 0001 0001')), 17);   // DNS from 2152
  plain(ETH + ipv4(17, udp(2152, 2152, '32 ff 00ff 00000001 0000 0000 |' + IPV4_TCP_SYN_OPTS)), 17);   // GTP length past the datagram
  plain(ETH + ipv4(17, udp(3544, 1, '0102030405060708')), 17);                           // Teredo port, not IPv6
  plain(ETH + ipv4(17, udp(3544, 1, IPV6_EXT_UDP.replace('0024', '0124'))), 17);         // IPv6 longer than the datagram
  plain(ETH + ipv4(47, '0000 880b |' + IPV4_TCP_SYN_OPTS), 47);                           // GRE v0 with PPP: not entered
  plain(ETH + ipv4(47, '4000 0800 | 00000000 |' + IPV4_TCP_SYN_OPTS), 47);               // GRE with source routing
  plain(ETH + ipv4(47, '3001 880b 0006 0005 00000001 | ff03 c021 01010004'), 47);        // PPTP carrying LCP
  plain(ETH + ipv4(47, '0002 0800 |' + IPV4_TCP_SYN_OPTS), 47);                           // GRE version 2
});

t.test('Teredo: a bubble (IPv6 with no payload) with trailing bytes is still IPv6', async (t) => {
  const bubble = '6000 0000 0000 3b 15 ' + '20010000' + '00'.repeat(12) + '20010000' + '11'.repeat(12) + ' | 0102030405060708';
  const m = eth(ETH + ipv4(17, udp(50000, 3544, bubble)));
  t.equal(m.event, DecodeEvent.OK);
  t.equal(m.tunnelType, TunnelType.TEREDO);
  t.equal(m.ipVersion, 6);
  t.equal(m.protocol, 59);
});

t.test('nesting up to MAX_TUNNEL_DEPTH; one more is TOO_MANY_HEADERS', async (t) => {
  const nest = (n: number) => {
    let inner = IPV4_TCP_SYN_OPTS;
    for (let i = 0; i < n; i++) inner = ipv4(4, inner, `0a0000${(i + 1).toString(16).padStart(2, '0')}`, '0a0000ff');
    return ETH + inner;
  };
  t.same(eth(nest(MAX_TUNNEL_DEPTH)), syn(14 + 20 * MAX_TUNNEL_DEPTH, TunnelType.IP_IN_IP));
  const deep = eth(nest(MAX_TUNNEL_DEPTH + 1));
  t.equal(deep.event, DecodeEvent.TOO_MANY_HEADERS);
  t.equal(deep.tunnelType, TunnelType.IP_IN_IP);
  t.equal(deep.protocol, 4, 'the record is a carrier');
  t.equal(deep.src[0], v4('10.0.0.2'), 'the carrier of the last tunnel entered');
});

t.test('a bad inner packet: the carrier exactly as it decodes alone, event TUNNEL_INNER_INVALID', async (t) => {
  const bad = [
    ETH + ipv4(17, udp(1, 4789, '08000000 00007b00 |' + ETH_DST_SRC + ' 0800 | 65 00 0014')),   // inner IP version 6 in IPv4 EtherType
    ETH + ipv4(4, '46 00 0014 0000 0000 40 06 0000 c0a80068 c0a80001'),                           // IHL 6 > total length
    ETH + ipv4(47, '0000 0800 | 45 00 003c 1c46 4000 40 06 b1e6 c0a80068'),                       // cut inside the inner IP header
    ETH + ipv4(17, udp(2152, 2152, '30 ff 0014 00000001 | 44 00 0014 0000 0000 40 06 0000 c0a80068 c0a80001')),   // IHL 4
    ETH + ipv4(47, '0000 86dd |' + IPV4_TCP_SYN_OPTS),                                             // IPv6 EtherType, IPv4 inside
  ];
  for (const frame of bad) {
    const bytes = hex(frame);
    const got = view(decodeBytes(LinkType.ETHERNET, bytes));
    const alone = view(decodeBytes(LinkType.ETHERNET, bytes, bytes.length, undefined, 0));
    t.equal(alone.event, DecodeEvent.OK);
    t.same(got, { ...alone, event: DecodeEvent.TUNNEL_INNER_INVALID }, frame.slice(0, 60));
  }
  // Inner frame not IP (ARP over VXLAN): the carrier, event OK.
  const arp = hex(ETH + ipv4(17, udp(1, 4789, '08000000 00007b00 |' + ETH_DST_SRC + ' 0806 | 0001 0800 0604 0001')));
  t.same(view(decodeBytes(LinkType.ETHERNET, arp)), view(decodeBytes(LinkType.ETHERNET, arp, arp.length, undefined, 0)));
  // Inner TCP header cut (the inner network layer is complete): the inner packet is kept.
  const frame = hex(cases[0].frame);
  const cut = decodeBytes(LinkType.ETHERNET, frame, 38 + 20 + 10);
  t.equal(cut.event, DecodeEvent.TRUNCATED_L4);
  t.equal(cut.tunnelType, TunnelType.GRE);
  t.equal(cut.src[0], v4('192.168.0.104'));
  t.equal(cut.srcPort, 50000);
});

t.test('every tunnel frame cut at every length: no throw, never a mix of outer and inner fields', async (t) => {
  // Whatever the cut, the record is one of the frame's packets exactly as decodeFrame gives it when
  // told to enter only k tunnels (only the event may differ), and a tunnel is named only when k ≥ 1.
  const fields = (m: MetaView) => JSON.stringify({ ...m, event: 0 });
  for (const c of cases) {
    const bytes = hex(c.frame);
    let failures = 0;
    for (let len = 0; len <= bytes.length; len++) {
      let m: MetaView;
      try {
        m = view(decodeBytes(LinkType.ETHERNET, bytes, len));
      } catch (err) {
        failures++;
        t.fail(`${c.name}: threw at ${len}: ${String(err)}`);
        continue;
      }
      let k = 0;
      while (k <= MAX_TUNNEL_DEPTH && fields(view(decodeBytes(LinkType.ETHERNET, bytes, len, undefined, k))) !== fields(m)) k++;
      const ok = k <= MAX_TUNNEL_DEPTH && (m.tunnelType === TunnelType.NONE) === (k === 0) &&
        (m.tunnelType === TunnelType.NONE || (m.tunnelType === c.want.tunnelType && m.tunnelId === c.want.tunnelId));
      if (!ok) { failures++; t.fail(`${c.name} at ${len}: ${JSON.stringify(m)}`); }
    }
    t.same(view(decodeBytes(LinkType.ETHERNET, bytes)), c.want, `${c.name}: whole frame`);
    t.equal(failures, 0, `${c.name}: ${bytes.length + 1} lengths (${hexLen(c.frame)} bytes)`);
  }
});
