// TCP header: ports, flags (incl. ECE/CWR), window, data offset, truncation.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import {
  DecodeEvent, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
} from '../../../agent/decode/packet-meta';
import { PAD, decodeBytes, expected, hex, v4, view } from './helpers';

const IP = (total: string) => `45 00 ${total} 0001 0000 40 06 0000 c0a80068 c0a80001 |`;
const raw = (h: string, caplen?: number) => decodeBytes(LinkType.RAW, hex(h), caplen);
const BASE = {
  etherType: 0x0800, ipVersion: 4, src: [v4('192.168.0.104'), 0, 0, 0], dst: [v4('192.168.0.1'), 0, 0, 0],
  protocol: 6, ipHeaderLen: 20, ttl: 64,
};

t.test('every flag bit, in the order of the flags byte', async (t) => {
  const bits = [TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR];
  t.same(bits, [1, 2, 4, 8, 16, 32, 64, 128]);
  for (const flags of [...bits, 0, 0xff, TCP_SYN | TCP_ECE | TCP_CWR]) {
    const m = raw(IP('0028') + `0016 d431 00000000 00000000 50 ${flags.toString(16).padStart(2, '0')} 0200 0000 0000`);
    t.same(view(m), expected({
      ...BASE, ipTotalLen: 40, l4Valid: true, srcPort: 22, dstPort: 54321, tcpFlags: flags, tcpWindow: 512,
      l4HeaderLen: 20, payloadLen: 0, payloadOffset: 40,
    }), `flags 0x${flags.toString(16)}`);
  }
});

t.test('options: l4HeaderLen from the data offset, payload after them', async (t) => {
  const m = raw(IP('0040') + '0016 d431 00000000 00000000 80 18 ffff 0000 0000 0101080a0000000100000002 | 0102030405060708');
  t.same(view(m), expected({
    ...BASE, ipTotalLen: 64, l4Valid: true, srcPort: 22, dstPort: 54321, tcpFlags: 0x18, tcpWindow: 65535,
    l4HeaderLen: 32, payloadLen: 12, tcpTimestamps: true, payloadOffset: 52, capturedPayloadLen: 8,
  }));
});

t.test('data offset below 5 words, or past the IP packet: BAD_TCP_HEADER_LEN with the fields read', async (t) => {
  const low = raw(IP('0028') + '0016 d431 00000000 00000000 40 02 0200 0000 0000');
  t.same(view(low), expected({
    ...BASE, event: DecodeEvent.BAD_TCP_HEADER_LEN, ipTotalLen: 40, srcPort: 22, dstPort: 54321, tcpFlags: 2,
    tcpWindow: 512, l4HeaderLen: 16,
  }));
  const past = raw(IP('0028') + '0016 d431 00000000 00000000 f0 02 0200 0000 0000 ' + '00'.repeat(40));
  t.equal(past.event, DecodeEvent.BAD_TCP_HEADER_LEN);
  t.equal(past.l4Valid, false);
  t.equal(past.payloadLen, 0);
});

t.test('cut inside the header: TRUNCATED_L4, ports kept once 4 bytes are there', async (t) => {
  const seg = IP('0028') + '0016 d431 00000000 00000000 50 02 0200 0000 0000';
  for (let l4 = 0; l4 < 20; l4++) {
    const m = raw(seg, 20 + l4);
    t.same(view(m), expected({
      ...BASE, event: DecodeEvent.TRUNCATED_L4, ipTotalLen: 40,
      srcPort: l4 >= 4 ? 22 : 0, dstPort: l4 >= 4 ? 54321 : 0,
    }), `${l4} TCP bytes`);
  }
  // Options cut by the snaplen do not matter: the fixed 20 bytes are enough.
  const opts = raw(IP('0040') + '0016 d431 00000000 00000000 80 18 ffff 0000 0000 0101080a', 44);
  t.equal(opts.event, DecodeEvent.OK);
  t.equal(opts.l4Valid, true);
  t.equal(opts.l4HeaderLen, 32);
});

t.test('an IP total length too short for a TCP header bounds the TCP decode', async (t) => {
  // total 30: 10 TCP bytes belong to the packet, the rest of the capture is padding.
  const m = raw(IP('001e') + '0016 d431 00000000 00000000 50 02 0200 0000 0000');
  t.equal(m.event, DecodeEvent.TRUNCATED_L4);
  t.equal(m.srcPort, 22);
  t.equal(m.tcpFlags, 0);
});

t.test('sequence and acknowledgment numbers are unsigned', async (t) => {
  const m = raw(IP('0028') + '0016 d431 ffffffff 80000000 50 10 0200 0000 0000');
  t.equal(m.tcpSeq, 0xffffffff);
  t.equal(m.tcpAck, 0x80000000);
});

/** A SYN whose options are `opts` (hex, a multiple of 4 bytes). */
const withOptions = (opts: string, caplen?: number) => {
  const n = opts.replace(/\s/g, '').length / 2;
  const total = (40 + n).toString(16).padStart(4, '0');
  const offset = ((20 + n) / 4).toString(16) + '0';
  return raw(IP(total) + `c350 0050 00000001 00000000 ${offset} 02 ffff 0000 0000 ` + opts, caplen);
};
const options = (m: ReturnType<typeof raw>) => ({ mss: m.tcpMss, wscale: m.tcpWscale, sackOk: m.tcpSackOk, ts: m.tcpTimestamps });
const NONE = { mss: -1, wscale: -1, sackOk: false, ts: false };

t.test('options: MSS, window scale, SACK-permitted, timestamps, in any order with NOPs', async (t) => {
  const linux = withOptions('020405b4 0402080a 0001e240 00000000 01030307');   // Linux SYN
  t.same(options(linux), { mss: 1460, wscale: 7, sackOk: true, ts: true });
  t.equal(linux.l4Valid, true);
  t.equal(linux.l4HeaderLen, 40);
  const windows = withOptions('020405b4 01030308 01010402');                     // Windows SYN: no timestamps
  t.same(options(windows), { mss: 1460, wscale: 8, sackOk: true, ts: false });
  t.same(options(withOptions('0101080a 00000001 00000002')), { ...NONE, ts: true });
  t.same(options(withOptions('')), NONE);
});

t.test('options: EOL ends the walk; a bad length stops it without throwing; wrong sizes are not recorded', async (t) => {
  t.same(options(withOptions('00 020405b4 000000')), NONE, 'EOL first');
  t.same(options(withOptions('020405b4 00 030307')), { ...NONE, mss: 1460 }, 'EOL after MSS');
  t.same(options(withOptions('020405b4 0400 0303')), { ...NONE, mss: 1460 }, 'length 0 stops');
  t.same(options(withOptions('020405b4 04ff 0303')), { ...NONE, mss: 1460 }, 'length past the header stops');
  t.same(options(withOptions('0201 0402 0303 07 01')), NONE, 'length 1 stops at once');
  t.same(options(withOptions('020505b4 00 0402 00')), { ...NONE, sackOk: true }, 'MSS of length 5 skipped, walk goes on');
  t.same(options(withOptions('fe04 abcd 0402 0101')), { ...NONE, sackOk: true }, 'unknown kinds skipped by their length');
  const m = withOptions('020405b4 04ff 0303');
  t.equal(m.event, DecodeEvent.OK);
  t.equal(m.l4Valid, true);
});

t.test('options beyond the captured bytes are not seen (and nothing else changes)', async (t) => {
  const opts = '020405b4 0402080a 0001e240 00000000 01030307';
  const full = withOptions(opts);
  const seen = [];
  for (let cut = 40; cut <= 60; cut++) {
    const m = withOptions(opts, cut);
    t.equal(m.event, DecodeEvent.OK, `event at ${cut}`);
    t.equal(m.l4HeaderLen, 40);
    seen.push(options(m));
  }
  t.same(seen[0], NONE, 'no option byte captured');
  t.same(seen[4], { ...NONE, mss: 1460 }, 'MSS complete at 4 option bytes');
  t.same(seen[5], { ...NONE, mss: 1460 }, 'SACK-permitted needs both its bytes');
  t.same(seen[6], { ...NONE, mss: 1460, sackOk: true });
  t.same(seen[15], { ...NONE, mss: 1460, sackOk: true }, 'timestamps cut');
  t.same(seen[16], { ...NONE, mss: 1460, sackOk: true, ts: true });
  t.same(seen[19], { ...NONE, mss: 1460, sackOk: true, ts: true }, 'window scale cut');
  t.same(seen[20], options(full));
});

t.test('payloadOffset and capturedPayloadLen: absolute index, bounded by the capture and the packet', async (t) => {
  const seg = IP('0030') + '0016 d431 00000001 00000001 50 18 ffff 0000 0000 | 0102030405060708';
  const full = raw(seg);
  t.equal(full.payloadOffset, PAD + 40);
  t.equal(full.payloadLen, 8);
  t.equal(full.capturedPayloadLen, 8);
  for (let cut = 40; cut <= 48; cut++) t.equal(raw(seg, cut).capturedPayloadLen, cut - 40, `captured ${cut}`);
  // Padding after the packet is not payload.
  t.equal(raw(seg + ' 000000').capturedPayloadLen, 8);
  // No transport header: nothing set.
  const cut = raw(seg, 30);
  t.equal(cut.payloadOffset, 0);
  t.equal(cut.capturedPayloadLen, 0);
});
