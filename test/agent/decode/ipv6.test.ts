// IPv6 header and extension-header chain: hop-by-hop, destination options, routing, fragment, AH,
// mobility; depth limit; fragments; payload length 0; truncation and bad lengths inside the chain.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import { DecodeEvent } from '../../../agent/decode/packet-meta';
import { MAX_IPV6_EXT_HEADERS } from '../../../agent/decode/ipv6';
import { decodeBytes, expected, hex, v6, view } from './helpers';
import { IPV6_AH_TCP, IPV6_EXT_UDP, IPV6_FRAG_FIRST, IPV6_FRAG_LATER, IPV6_SRC_DST } from './frames';

const SRC = v6('2001:db8::1');
const DST = v6('2001:db8::2');
const raw = (h: string, caplen?: number) => decodeBytes(LinkType.IPV6, hex(h), caplen);

t.test('addresses as four network-order words', async (t) => {
  const m = raw('6000 0000 0000 3b 01 fe800000000000000211 22fffe334455 ff020000000000000000000000000001');
  t.same(Array.from(m.src), v6('fe80::211:22ff:fe33:4455'));
  t.same(Array.from(m.dst), v6('ff02::1'));
  t.equal(m.src[0], 0xfe800000 | 0);
});

t.test('hop-by-hop → destination options → routing → UDP', async (t) => {
  t.same(view(raw(IPV6_EXT_UDP)), expected({
    etherType: 0x86dd, ipVersion: 6, src: SRC, dst: DST, protocol: 17, ipTotalLen: 76, ipHeaderLen: 64, ttl: 64,
    l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 4, payloadOffset: 72, capturedPayloadLen: 4,
  }));
});

t.test('AH length is (x + 2) * 4', async (t) => {
  t.same(view(raw(IPV6_AH_TCP)), expected({
    etherType: 0x86dd, ipVersion: 6, src: SRC, dst: DST, protocol: 6, ipTotalLen: 84, ipHeaderLen: 64, ttl: 64,
    l4Valid: true, srcPort: 443, dstPort: 50000, tcpFlags: 0x10, tcpWindow: 1024, l4HeaderLen: 20, payloadLen: 0,
    tcpSeq: 1, tcpAck: 1, payloadOffset: 84,
  }));
});

t.test('mobility header (135) is walked; no-next-header (59) ends the chain with event OK', async (t) => {
  const m = raw('6000 0000 0010 87 40 ' + IPV6_SRC_DST + ' | 3b 00 0100 00000000 | 0000000000000000');
  t.same(view(m), expected({
    etherType: 0x86dd, ipVersion: 6, src: SRC, dst: DST, protocol: 59, ipTotalLen: 56, ipHeaderLen: 48, ttl: 64,
  }));
});

t.test('fragments: first fragment decodes the transport, later ones are IP_FRAGMENT', async (t) => {
  t.same(view(raw(IPV6_FRAG_FIRST)), expected({
    etherType: 0x86dd, ipVersion: 6, src: SRC, dst: DST, protocol: 17, ipTotalLen: 64, ipHeaderLen: 48, ttl: 64,
    isFragment: true, l4Valid: true, srcPort: 1234, dstPort: 53, l4HeaderLen: 8, payloadLen: 8,
    payloadOffset: 56, capturedPayloadLen: 8,
  }));
  t.same(view(raw(IPV6_FRAG_LATER)), expected({
    event: DecodeEvent.IP_FRAGMENT, etherType: 0x86dd, ipVersion: 6, src: SRC, dst: DST, protocol: 17,
    ipTotalLen: 56, ipHeaderLen: 48, ttl: 64, isFragment: true,
  }));
});

t.test('more extension headers than the limit: TOO_MANY_HEADERS', async (t) => {
  const chain = (n: number) => {
    const hdrs = Array.from({ length: n }, (_, i) => (i === n - 1 ? '11' : '3c') + ' 00 0104 00000000').join(' ');
    const plen = (n * 8 + 8).toString(16).padStart(4, '0');
    return `6000 0000 ${plen} 3c 40 ${IPV6_SRC_DST} ${hdrs} 04d2 0035 0008 0000`;
  };
  const ok = raw(chain(MAX_IPV6_EXT_HEADERS));
  t.equal(ok.event, DecodeEvent.OK);
  t.equal(ok.protocol, 17);
  t.equal(ok.ipHeaderLen, 40 + 8 * MAX_IPV6_EXT_HEADERS);
  const deep = raw(chain(MAX_IPV6_EXT_HEADERS + 1));
  t.equal(deep.event, DecodeEvent.TOO_MANY_HEADERS);
  t.equal(deep.l4Valid, false);
});

t.test('extension header past the payload length is BAD_IP_TOTAL_LEN, past the capture TRUNCATED_L3', async (t) => {
  // Payload length 8, but the hop-by-hop header says 16 bytes.
  t.equal(raw('6000 0000 0008 00 40 ' + IPV6_SRC_DST + ' 11 01 0000 00000000 0000000000000000').event, DecodeEvent.BAD_IP_TOTAL_LEN);
  // Payload length 100, capture ends inside the routing header.
  const cut = raw('6000 0000 0064 2b 40 ' + IPV6_SRC_DST + ' 11 00 0000');
  t.equal(cut.event, DecodeEvent.TRUNCATED_L3);
  t.equal(cut.ipVersion, 6);
  t.same(Array.from(cut.src), SRC);
  // Capture ends right after the fixed header, which announces an extension header.
  t.equal(raw('6000 0000 0064 00 40 ' + IPV6_SRC_DST).event, DecodeEvent.TRUNCATED_L3);
});

t.test('fixed header cut short, bad version', async (t) => {
  t.same(view(raw('6000 0000 0008 11 40 20010db8')), expected({ event: DecodeEvent.TRUNCATED_L3, etherType: 0x86dd }));
  t.same(view(decodeBytes(LinkType.RAW, hex('6000'))), expected({ event: DecodeEvent.TRUNCATED_L3, etherType: 0x86dd }));
  t.same(view(decodeBytes(LinkType.ETHERNET, hex('001122334455 66778899aabb 86dd 4500'))), expected({ event: DecodeEvent.BAD_IP_VERSION, etherType: 0x86dd }));
});

t.test('payload length 0 (jumbogram / GSO): the captured bytes are the packet', async (t) => {
  const m = raw('6000 0000 0000 11 40 ' + IPV6_SRC_DST + ' 04d2 0035 0000 0000 01020304');
  t.equal(m.event, DecodeEvent.OK);
  t.equal(m.ipTotalLen, 52);
  t.equal(m.payloadLen, 4);
});
