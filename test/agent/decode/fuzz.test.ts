// Robustness: 100,000 seeded random mutations of real frames from dev captures go through
// decodeFrame. Nothing may throw, the record must stay consistent, and no byte past caplen may
// influence the result (each frame is decoded twice, followed by 0x00 and by 0xff bytes).
import t from 'tap';
import { join } from 'node:path';
import { readCaptureFile } from '../../../agent/capture/file-source';
import { LinkType, decodeFrame } from '../../../agent/decode/decode';
import { DECODE_EVENT_COUNT, PacketMeta } from '../../../agent/decode/packet-meta';
import { mulberry32, view } from './helpers';

const DEV = join(__dirname, '../../../../shared/pcaps/dev');
const SOURCES = [
  'pcapplusplus__C__example2.pcap',                 // Ethernet, VLAN, QinQ, IPv4/IPv6, TCP/UDP/ICMP
  'fpcap__linux-cooked-unsw-nb15.pcap',             // SLL
  'zeek__linux_dlt_sll2.pcap',                      // SLL2
  'pcapplusplus__C__many_interfaces-1.pcapng',      // NULL, raw IP (12)
  'tcpdump__lspping-fec-rsvp.pcap',                 // PPP, MPLS
  'pcapplusplus__C__ip4_fragments.pcap',            // fragments
];
const ITERATIONS = 100_000;
const LINK_TYPES = Object.values(LinkType) as number[];

interface Sample { linkType: number; bytes: Uint8Array }

t.test(`${ITERATIONS} mutated frames: no throw, consistent record, nothing read past caplen`, async (t) => {
  const samples: Sample[] = [];
  for (const f of SOURCES) {
    const before = samples.length;
    await readCaptureFile(join(DEV, f), (linkType, buf, start, caplen) => {
      if (samples.length - before < 400) samples.push({ linkType, bytes: buf.slice(start, start + caplen) });
    });
    t.ok(samples.length > before, `frames from ${f}`);
  }

  const rnd = mulberry32(0x9e3779b9);
  const int = (n: number) => Math.floor(rnd() * n);
  const scratch = new Uint8Array(4096);
  const metaA = new PacketMeta();
  const metaB = new PacketMeta();
  const events = new Float64Array(DECODE_EVENT_COUNT);
  let problems = 0;

  for (let i = 0; i < ITERATIONS; i++) {
    const s = samples[int(samples.length)];
    let len = Math.min(s.bytes.length, 1500);
    const frame = scratch.subarray(0, 1600);
    frame.set(s.bytes.subarray(0, len));
    const edits = 1 + int(4);
    for (let e = 0; e < edits; e++) {
      const hot = Math.min(len, 96);   // headers live at the front
      const at = hot > 0 ? int(hot) : 0;
      switch (int(6)) {
        case 0: frame[at] = int(256); break;
        case 1: frame[at] ^= 1 << int(8); break;
        case 2: frame[at] = [0, 0xff, 0x80, 0x7f, 0x40, 0x45, 0x60, 0x81, 0x86, 0xdd][int(10)]; break;
        case 3: len = int(len + 1); break;
        case 4: if (len + 8 < 1600) { for (let k = 0; k < 8; k++) frame[len + k] = int(256); len += 8; } break;
        default: frame[at] = frame[(at + 1) % Math.max(1, len)]; break;
      }
    }
    const linkType = rnd() < 0.8 ? s.linkType : rnd() < 0.9 ? LINK_TYPES[int(LINK_TYPES.length)] : int(300);

    // Same bytes, once followed by zeros and once by 0xff, at different offsets.
    const a = new Uint8Array(len + 64);
    a.set(frame.subarray(0, len), 3);
    const b = new Uint8Array(len + 64).fill(0xff);
    b.set(frame.subarray(0, len), 11);
    try {
      decodeFrame(linkType, a, 3, len, metaA);
      decodeFrame(linkType, b, 11, len, metaB);
    } catch (err) {
      problems++;
      if (problems < 5) t.fail(`threw on iteration ${i}: ${String(err)}`);
      continue;
    }
    events[metaA.event]++;
    const va = view(metaA, 3);
    const vb = view(metaB, 11);
    const bad =
      !(Number.isInteger(va.event) && va.event >= 0 && va.event < DECODE_EVENT_COUNT) ||
      (va.l4Valid && va.event !== 0) ||
      !(va.payloadLen >= 0) ||
      !(va.ipVersion === 0 || va.ipVersion === 4 || va.ipVersion === 6) ||
      Object.values(va).some((v) => typeof v === 'number' && !Number.isInteger(v)) ||
      JSON.stringify(va) !== JSON.stringify(vb);
    if (bad) {
      problems++;
      if (problems < 5) t.fail(`iteration ${i}, link type ${linkType}, ${Buffer.from(frame.subarray(0, len)).toString('hex')}: ${JSON.stringify(va)} vs ${JSON.stringify(vb)}`);
    }
  }
  t.equal(problems, 0, 'no throw, no inconsistency');
  t.comment(`events over ${ITERATIONS} mutations: ${Array.from(events).join(' ')}`);
  t.ok(events[0] > ITERATIONS / 10, 'a good share still decodes fully (the mutations are not all fatal)');
});
