// ICMP and ICMPv6 errors: the quoted datagram's addresses, protocol and ports go into quote*; the
// packet's own tuple stays the ICMP packet's.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent, TunnelType } from '../../../agent/decode/packet-meta';
import { type MetaView, PAD, decodeBytes, expected, hex, v4, v6, view } from './helpers';
import { ETH_DST_SRC, IPV6_SRC_DST, ipv4, ipv6 } from './frames';

const A = v4('192.168.0.1');
const B = v4('192.168.0.104');
/** The UDP datagram 192.168.0.104:1234 → 192.168.0.1:53 as an error quotes it (header + 8 bytes). */
const QUOTED_UDP = '45 00 0028 0002 0000 01 11 0000 c0a80068 c0a80001 | 04d2 0035 0014 0000';
/** Port unreachable from 192.168.0.1 back to 192.168.0.104, quoting `quote`. */
const unreachable = (quote: string, type = '03 03') =>
  ipv4(1, `${type} 0000 00000000 |` + quote, 'c0a80001', 'c0a80068');

const raw = (h: string, caplen?: number) => decodeBytes(LinkType.RAW, hex(h), caplen);

t.test('ICMPv4 port unreachable quoting UDP: every field', async (t) => {
  t.same(view(raw(unreachable(QUOTED_UDP))), expected({
    etherType: 0x0800, ipVersion: 4, src: [A, 0, 0, 0], dst: [B, 0, 0, 0], protocol: 1, ipTotalLen: 56,
    ipHeaderLen: 20, ttl: 64, l4Valid: true, l4HeaderLen: 8, payloadLen: 28, icmpType: 3, icmpCode: 3,
    payloadOffset: 28, capturedPayloadLen: 28,
    icmpQuoteValid: true, quoteSrc: [B, 0, 0, 0], quoteDst: [A, 0, 0, 0], quoteProtocol: 17, quoteSrcPort: 1234, quoteDstPort: 53,
  }));
});

t.test('ICMPv4 error types 3, 4, 5, 11, 12 quote; echo and others do not', async (t) => {
  for (const type of [3, 4, 5, 11, 12]) {
    const m = raw(unreachable(QUOTED_UDP, `${type.toString(16).padStart(2, '0')} 00`));
    t.equal(m.icmpQuoteValid, true, `type ${type}`);
    t.equal(m.quoteDstPort, 53);
  }
  for (const type of [0, 8, 13, 128]) {
    const m = raw(unreachable(QUOTED_UDP, `${type.toString(16).padStart(2, '0')} 00`));
    t.equal(m.icmpQuoteValid, false, `type ${type}`);
    t.same(Array.from(m.quoteSrc), [0, 0, 0, 0]);
  }
});

t.test('ICMPv4 quotes: options in the quoted header, TCP, later fragments, headers only, other versions', async (t) => {
  const tcp = raw(unreachable('46 00 0030 0002 0000 01 06 0000 c0a80068 c0a80001 01010101 | c350 0050 00000001', '0b 00'));
  t.same([tcp.quoteProtocol, tcp.quoteSrcPort, tcp.quoteDstPort], [6, 50000, 80]);
  const frag = raw(unreachable('45 00 0028 0002 00b9 01 11 0000 c0a80068 c0a80001 | 04d2 0035 0014 0000'));
  t.equal(frag.icmpQuoteValid, true);
  t.same([frag.quoteProtocol, frag.quoteSrcPort, frag.quoteDstPort], [17, 0, 0], 'a later fragment has no ports');
  const bare = raw(unreachable('45 00 0028 0002 0000 01 11 0000 c0a80068 c0a80001'));
  t.same([bare.icmpQuoteValid, bare.quoteSrc[0], bare.quoteSrcPort], [true, B, 0], 'header only: addresses, no ports');
  const icmp = raw(unreachable('45 00 0054 0002 0000 01 01 0000 c0a80068 c0a80001 | 0800 0000 0001 0002'));
  t.same([icmp.quoteProtocol, icmp.quoteSrcPort, icmp.quoteDstPort], [1, 0, 0], 'a quoted ICMP packet has no ports');
  const six = raw(unreachable('6000 0000 0008 11 40 ' + IPV6_SRC_DST + ' 04d2 0035 0008 0000'));
  t.equal(six.icmpQuoteValid, false, 'ICMPv4 quoting IPv6: not read');
  t.equal(raw(unreachable('44 00 0028 0002 0000 01 11 0000 c0a80068 c0a80001')).icmpQuoteValid, false, 'IHL 4');
  t.equal(raw(unreachable('')).icmpQuoteValid, false, 'nothing quoted');
});

t.test('ICMPv6 errors (1–4) quote IPv6, through extension headers', async (t) => {
  // Destination unreachable from 2001:db8::2 quoting TCP 2001:db8::1 → ::2 behind a hop-by-hop header.
  const quote = '6000 0000 0014 00 40 ' + IPV6_SRC_DST + ' | 06 00 0104 00000000 | c350 01bb 00000001';
  const frame = ipv6(58, '01 04 0000 00000000 |' + quote, '20010db8000000000000000000000002', '20010db8000000000000000000000001');
  const m = raw(frame);
  t.same(view(m), expected({
    etherType: 0x86dd, ipVersion: 6, src: v6('2001:db8::2'), dst: v6('2001:db8::1'), protocol: 58, ipTotalLen: 40 + 8 + 56,
    ipHeaderLen: 40, ttl: 64, l4Valid: true, l4HeaderLen: 8, payloadLen: 56, icmpType: 1, icmpCode: 4,
    payloadOffset: 48, capturedPayloadLen: 56,
    icmpQuoteValid: true, quoteSrc: v6('2001:db8::1'), quoteDst: v6('2001:db8::2'), quoteProtocol: 6, quoteSrcPort: 50000, quoteDstPort: 443,
  }));
  for (const type of [1, 2, 3, 4]) {
    t.equal(raw(frame.replace('01 04 0000', `0${type} 00 0000`)).icmpQuoteValid, true, `type ${type}`);
  }
  t.equal(raw(frame.replace('01 04 0000', '80 00 0000')).icmpQuoteValid, false, 'echo request');
  t.equal(raw(ipv6(58, '03 00 0000 00000000 |' + QUOTED_UDP)).icmpQuoteValid, false, 'ICMPv6 quoting IPv4: not read');
  // A later fragment in the quote: protocol after the fragment header, no ports.
  const frag = ipv6(58, '01 00 0000 00000000 | 6000 0000 0010 2c 40 ' + IPV6_SRC_DST + ' | 11 00 05a8 12345678 | 04d2 0035');
  const f = raw(frag);
  t.same([f.icmpQuoteValid, f.quoteProtocol, f.quoteSrcPort], [true, 17, 0]);
});

t.test('an ICMP error inside a tunnel: quote of the inner error, tunnel named', async (t) => {
  const frame = ETH_DST_SRC + ' 0800 |' + ipv4(47, '0000 0800 |' + unreachable(QUOTED_UDP));
  const m = decodeBytes(LinkType.ETHERNET, hex(frame));
  t.equal(m.event, DecodeEvent.OK);
  t.equal(m.tunnelType, TunnelType.GRE);
  t.same([m.src[0], m.quoteSrc[0], m.quoteSrcPort, m.quoteDstPort], [A, B, 1234, 53]);
  t.equal(m.payloadOffset, PAD + 14 + 20 + 4 + 28);
});

t.test('cut at every length: the quote is complete or absent, never wrong', async (t) => {
  const frames = [
    unreachable('46 00 0030 0002 0000 01 06 0000 c0a80068 c0a80001 01010101 | c350 0050 00000001'),
    ipv6(58, '01 04 0000 00000000 | 6000 0000 0014 00 40 ' + IPV6_SRC_DST + ' | 06 00 0104 00000000 | c350 01bb 00000001'),
  ];
  for (const f of frames) {
    const bytes = hex(f);
    const full = view(raw(f));
    let failures = 0;
    for (let len = 0; len <= bytes.length; len++) {
      const m: MetaView = view(decodeBytes(LinkType.RAW, bytes, len));
      const q = m.icmpQuoteValid;
      const good = q
        ? JSON.stringify([m.quoteSrc, m.quoteDst]) === JSON.stringify([full.quoteSrc, full.quoteDst]) &&
          (m.quoteProtocol === full.quoteProtocol || m.quoteProtocol === 0) &&   // 0: the hop-by-hop header not walked yet
          ((m.quoteSrcPort === full.quoteSrcPort && m.quoteDstPort === full.quoteDstPort) || (m.quoteSrcPort === 0 && m.quoteDstPort === 0))
        : m.quoteSrc.every((w) => w === 0) && m.quoteProtocol === 0 && m.quoteSrcPort === 0;
      if (!good) { failures++; t.fail(`length ${len}: ${JSON.stringify(m)}`); }
    }
    t.equal(failures, 0, `${bytes.length + 1} lengths`);
  }
});
