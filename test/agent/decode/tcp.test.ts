// TCP header: ports, flags (incl. ECE/CWR), window, data offset, truncation.
import t from 'tap';
import { LinkType } from '../../../agent/decode/decode';
import {
  DecodeEvent, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
} from '../../../agent/decode/packet-meta';
import { decodeBytes, expected, hex, v4, view } from './helpers';

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
