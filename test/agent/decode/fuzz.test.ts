// Robustness: 1,000,000 seeded random mutations of real frames from dev captures (every link type,
// tunnels, ICMP errors, DNS, TLS, HTTP, QUIC) go through decodeFrame, and their payload through
// inspectPayload. Nothing may throw, the record must stay consistent, and no byte past caplen may
// influence the result: each frame is decoded twice, once followed by 0x00 bytes and once by 0xff
// bytes, at different offsets, and the two records and the two application names must be equal.
// Mutation is cheap on purpose (a copy, a few byte edits) so a million runs in seconds.
import t from 'tap';
import { join } from 'node:path';
import { readCaptureFile } from '../../../agent/capture/file-source';
import { LinkType, decodeFrame } from '../../../agent/decode/decode';
import { DECODE_EVENT_COUNT, DecodeEvent, PacketMeta } from '../../../agent/decode/packet-meta';
import { inspectPayload } from '../../../agent/decode/app/inspect';
import type { AppNames } from '../../../agent/decode/app/app-names';
import { mulberry32, view } from './helpers';

const DEV = join(__dirname, '../../../../shared/pcaps/dev');
const SOURCES = [
  'pcapplusplus__C__example2.pcap',                 // Ethernet, VLAN, QinQ, IPv4/IPv6, TCP/UDP/ICMP, DNS, HTTP, TLS
  'fpcap__linux-cooked-unsw-nb15.pcap',             // SLL, HTTP
  'zeek__linux_dlt_sll2.pcap',                      // SLL2
  'pcapplusplus__C__many_interfaces-1.pcapng',      // NULL, raw IP (12), TLS
  'tcpdump__lspping-fec-rsvp.pcap',                 // PPP, MPLS
  'pcapplusplus__C__ip4_fragments.pcap',            // fragments
  'packetnet__vxlan.pcap', 'tcpdump__geneve-gcp.pcap', 'zeek__tunnels__gre-erspan3-dot1q.pcap',
  'zeek__tunnels__gtp__gtp8_teredo.pcap', 'zeek__tunnels__6in4.pcap', 'packetnet__gre_custom_protocol.pcap',
  'pcapplusplus__C__GrePackets.cap', 'zeek__doc-plugin__vxlan-overlapping-http-get.pcap',   // tunnels
  'zeek__icmp__icmp-destunreach-udp.pcap', 'zeek__smtp.pcap', 'pcap4j__IcmpV6TimeExceededPacketTest.pcap',  // ICMP errors
  'pcapplusplus__P__nflogPacket.pcap',              // NFLOG
  'tcpdump__quic_handshake_truncated.pcap', 'zeek__quic__quicv2-echo-dpd-custom-port-4433.pcap',   // QUIC
  'tcpdump__dns_tcp.pcap', 'zeek__tls__tls-expired-cert.pcap',   // DNS over TCP, TLS
];
const ITERATIONS = 1_000_000;
const PER_FILE = 400;
const LINK_TYPES = Object.values(LinkType) as number[];
const PORTS = [53, 5353, 443, 80, 8080, 4789, 6081, 2152, 3544, 1234];
const SPECIAL = [0, 0xff, 0x80, 0x7f, 0x40, 0x45, 0x60, 0x81, 0x86, 0xdd, 0x16, 0x03, 0x01, 0xc0, 0x08, 0x65, 0x58];

/** Field-by-field equality of two records (no allocation); payloadOffset relative to each start. */
function sameRecord(a: PacketMeta, aStart: number, b: PacketMeta, bStart: number): boolean {
  for (let i = 0; i < 4; i++) {
    if (a.src[i] !== b.src[i] || a.dst[i] !== b.dst[i] || a.quoteSrc[i] !== b.quoteSrc[i] || a.quoteDst[i] !== b.quoteDst[i]) return false;
  }
  return a.event === b.event && a.vlanId === b.vlanId && a.etherType === b.etherType && a.ipVersion === b.ipVersion &&
    a.protocol === b.protocol && a.ipTotalLen === b.ipTotalLen && a.ipHeaderLen === b.ipHeaderLen && a.ttl === b.ttl &&
    a.isFragment === b.isFragment && a.l4Valid === b.l4Valid && a.srcPort === b.srcPort && a.dstPort === b.dstPort &&
    a.tcpFlags === b.tcpFlags && a.tcpWindow === b.tcpWindow && a.l4HeaderLen === b.l4HeaderLen &&
    a.payloadLen === b.payloadLen && a.icmpType === b.icmpType && a.icmpCode === b.icmpCode &&
    a.tcpSeq === b.tcpSeq && a.tcpAck === b.tcpAck && a.tcpMss === b.tcpMss && a.tcpWscale === b.tcpWscale &&
    a.tcpSackOk === b.tcpSackOk && a.tcpTimestamps === b.tcpTimestamps &&
    (a.payloadOffset === 0 ? 0 : a.payloadOffset - aStart) === (b.payloadOffset === 0 ? 0 : b.payloadOffset - bStart) &&
    a.capturedPayloadLen === b.capturedPayloadLen && a.tunnelType === b.tunnelType && a.tunnelId === b.tunnelId &&
    a.icmpQuoteValid === b.icmpQuoteValid && a.quoteProtocol === b.quoteProtocol &&
    a.quoteSrcPort === b.quoteSrcPort && a.quoteDstPort === b.quoteDstPort;
}

/** Why the record is inconsistent, or '' (start/caplen: where the frame was). */
function inconsistency(m: PacketMeta, start: number, caplen: number): string {
  if (!(Number.isInteger(m.event) && m.event >= 0 && m.event < DECODE_EVENT_COUNT)) return 'event';
  if (m.l4Valid && m.event !== DecodeEvent.OK && m.event !== DecodeEvent.TUNNEL_INNER_INVALID) return 'l4Valid with a failure event';
  if (!(m.payloadLen >= 0 && m.capturedPayloadLen >= 0 && m.capturedPayloadLen <= m.payloadLen)) return 'payload lengths';
  if (m.capturedPayloadLen > 0 && !(m.payloadOffset >= start && m.payloadOffset + m.capturedPayloadLen <= start + caplen)) return 'payload outside the frame';
  if (!(m.ipVersion === 0 || m.ipVersion === 4 || m.ipVersion === 6)) return 'ipVersion';
  if (!(m.tunnelType >= 0 && m.tunnelType <= 6)) return 'tunnel type';
  if ((m.tunnelType === 0 || m.tunnelType === 5 || m.tunnelType === 6) && m.tunnelId !== -1) return 'tunnel id without one';
  if (!(m.tcpSeq >= 0 && m.tcpSeq <= 0xffffffff && m.tcpAck >= 0 && m.tcpAck <= 0xffffffff)) return 'seq/ack';
  if (!m.icmpQuoteValid && (m.quoteProtocol !== 0 || m.quoteSrcPort !== 0 || m.quoteSrc[0] !== 0)) return 'quote fields without a quote';
  return '';
}

t.test(`${ITERATIONS} mutated frames through decodeFrame and inspectPayload: no throw, consistent, nothing read past caplen`, async (t) => {
  // All samples in one buffer: [linkType, offset, length] per frame; each source's first sample index
  // (a source is picked uniformly, then one of its frames, so the small tunnel captures count).
  const chunks: Uint8Array[] = [];
  const index: number[] = [];
  const firstOf: number[] = [];
  let total = 0;
  for (const f of SOURCES) {
    let n = 0;
    firstOf.push(index.length / 3);
    await readCaptureFile(join(DEV, f), (linkType, buf, start, caplen) => {
      if (n++ >= PER_FILE) return;
      chunks.push(buf.slice(start, start + caplen));
      index.push(linkType, total, caplen);
      total += caplen;
    });
    t.ok(n > 0, `frames from ${f}`);
  }
  firstOf.push(index.length / 3);
  const all = new Uint8Array(total);
  for (let i = 0, at = 0; i < chunks.length; at += chunks[i].length, i++) all.set(chunks[i], at);

  const rnd = mulberry32(0x9e3779b9);
  const int = (n: number) => Math.floor(rnd() * n);
  const MAX = 1600;
  const frame = new Uint8Array(MAX + 16);
  const a = new Uint8Array(MAX + 80);
  const b = new Uint8Array(MAX + 80);
  const A_START = 3;
  const B_START = 11;
  const metaA = new PacketMeta();
  const metaB = new PacketMeta();
  const events = new Float64Array(DECODE_EVENT_COUNT);
  let problems = 0;
  let inspected = 0;
  let found = 0;
  let tunnelled = 0;
  let quoted = 0;
  const fail = (i: number, linkType: number, len: number, why: string) => {
    problems++;
    if (problems <= 5) t.fail(`iteration ${i}, link type ${linkType}: ${why}; frame ${Buffer.from(frame.subarray(0, len)).toString('hex')}`);
  };

  const started = Date.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const src = int(SOURCES.length);
    const s = firstOf[src] + int(firstOf[src + 1] - firstOf[src]);
    let len = Math.min(index[s * 3 + 2], MAX);
    const from = index[s * 3 + 1];
    frame.set(all.subarray(from, from + len));
    const edits = 1 + int(4);
    for (let e = 0; e < edits; e++) {
      const zone = rnd() < 0.6 ? Math.min(len, 96) : len;     // headers live at the front, names further on
      const at = zone > 0 ? int(zone) : 0;
      switch (int(7)) {
        case 0: frame[at] = int(256); break;
        case 1: frame[at] ^= 1 << int(8); break;
        case 2: frame[at] = SPECIAL[int(SPECIAL.length)]; break;
        case 3: len = int(len + 1); break;
        case 4: if (len + 8 <= MAX) { for (let k = 0; k < 8; k++) frame[len + k] = int(256); len += 8; } break;
        case 5: frame[at] = 0; frame[at + 1] = int(4); break;  // small lengths and counts
        default: frame[at] = frame[(at + 1) % Math.max(1, len)]; break;
      }
    }
    const r = rnd();
    const linkType = r < 0.9 ? index[s * 3] : r < 0.98 ? LINK_TYPES[int(LINK_TYPES.length)] : int(300);

    // Same bytes, once followed by zeros and once by 0xff, at different offsets.
    a.fill(0, A_START + len, A_START + len + 64);
    a.set(frame.subarray(0, len), A_START);
    b.fill(0xff, B_START + len, B_START + len + 64);
    b.set(frame.subarray(0, len), B_START);
    try {
      decodeFrame(linkType, a, A_START, len, metaA);
      decodeFrame(linkType, b, B_START, len, metaB);
    } catch (err) {
      fail(i, linkType, len, `decodeFrame threw ${String(err)}`);
      continue;
    }
    events[metaA.event]++;
    if (metaA.tunnelType !== 0) tunnelled++;
    if (metaA.icmpQuoteValid) quoted++;
    const why = inconsistency(metaA, A_START, len);
    if (why) { fail(i, linkType, len, `${why}: ${JSON.stringify(view(metaA, A_START))}`); continue; }
    if (!sameRecord(metaA, A_START, metaB, B_START)) {
      fail(i, linkType, len, `bytes past caplen changed the record: ${JSON.stringify(view(metaA, A_START))} vs ${JSON.stringify(view(metaB, B_START))}`);
      continue;
    }

    if (metaA.capturedPayloadLen > 0) {
      inspected++;
      const q = rnd();
      const sp = q < 0.8 ? metaA.srcPort : PORTS[int(PORTS.length)];
      const dp = q < 0.8 ? metaA.dstPort : PORTS[int(PORTS.length)];
      const proto = q < 0.9 ? metaA.protocol : q < 0.95 ? 6 : 17;
      const outA: AppNames = {};
      const outB: AppNames = {};
      let foundA: boolean;
      let foundB: boolean;
      try {
        foundA = inspectPayload(proto, sp, dp, a, metaA.payloadOffset, metaA.capturedPayloadLen, outA);
        foundB = inspectPayload(proto, sp, dp, b, metaB.payloadOffset, metaB.capturedPayloadLen, outB);
      } catch (err) {
        fail(i, linkType, len, `inspectPayload threw ${String(err)}`);
        continue;
      }
      if (foundA) found++;
      if (foundA !== (Object.keys(outA).length > 0)) fail(i, linkType, len, `inspectPayload returned ${foundA} with ${JSON.stringify(outA)}`);
      else if (foundA !== foundB || (foundA && JSON.stringify(outA) !== JSON.stringify(outB))) {
        fail(i, linkType, len, `bytes past the payload changed the names: ${JSON.stringify(outA)} vs ${JSON.stringify(outB)}`);
      }
    }
  }
  const seconds = (Date.now() - started) / 1000;
  t.equal(problems, 0, 'no throw, no inconsistency');
  t.comment(`${ITERATIONS} mutations in ${seconds.toFixed(1)} s; events: ${Array.from(events).join(' ')}; ` +
    `${tunnelled} decoded as tunnelled, ${quoted} ICMP quotes; ${inspected} payloads inspected, names found in ${found}`);
  t.ok(events[DecodeEvent.OK] > ITERATIONS / 10, 'a good share still decodes fully (the mutations are not all fatal)');
  t.ok(found > ITERATIONS / 100, 'and a good share of payloads still names something');
  t.ok(tunnelled > ITERATIONS / 50 && quoted > ITERATIONS / 100, 'tunnels and ICMP quotes are exercised');
});
