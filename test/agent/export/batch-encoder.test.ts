import t, { type Test } from 'tap';
import { join } from 'node:path';
import { captureRecords } from '../../helpers/capture-records';
import { BatchEncoder } from '../../../agent/export/batch-encoder';
import { AgentMessage, encodeAgentMessage, type IFlowRecord } from '../../../proto';

/** What a receiver reads: the decoded message with every default spelled out. */
function read(bytes: Uint8Array): unknown {
  return AgentMessage.toObject(AgentMessage.decode(bytes), { defaults: true, arrays: true, bytes: Array });
}

function agree(t: Test, flows: IFlowRecord[], what: string): void {
  const enc = new BatchEncoder();
  const ours = enc.encode(42, 'boot-é', 1_700_000_000_123_456, flows);
  const theirs = encodeAgentMessage({ batch: { seq: 42, bootId: 'boot-é', createdUs: 1_700_000_000_123_456, flows } });
  t.same(read(ours), read(theirs), what);
}

function webFlow(i: number): IFlowRecord {
  const dir = (packets: number, bytes: number) => ({
    packets, ipBytes: bytes, payloadBytes: bytes - packets * 52, headerBytes: packets * 52, tcpFlags: 0x1b, synCount: 1,
    finCount: 1, pshCount: 3, ackCount: packets - 1, initWindow: 64240, lenMin: 52, lenMax: 1500, lenMean: bytes / packets,
    lenM2: 812345.5, iatCount: packets - 1, iatMinUs: 12, iatMaxUs: 48211, iatMeanUs: 5210.4, iatM2Us: 9.1e9,
    payloadLen: { n: packets, min: 0, max: 1448, mean: 402.2, m2: 1.2e6 }, nonemptyPackets: 4, l4HeaderBytes: packets * 32,
    l4HeaderLenMin: 32, firstUs: 1_700_000_000_000_000 + i, lastUs: 1_700_000_000_350_000 + i, firstTcpFlags: 2, tcpMss: 1460,
    tcpWscale: 0, tcpSackOk: true, tcpTimestamps: false, synTtl: 64, bulkCount: 1, bulkBytes: 30000, bulkPackets: 20, bulkDurationUs: 900,
  });
  return {
    srcAddr: Uint8Array.of(10, 1, (i >> 8) & 255, i & 255), dstAddr: Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
    srcPort: 40000 + i, dstPort: 443, protocol: 6, vlanId: i % 3 ? 0 : 100, hasVlan: i % 3 === 0, firstUs: 1_700_000_000_000_000,
    lastUs: 2 ** 53 - 1, endReason: 3, fwd: dir(12, 1840), bwd: i % 5 ? dir(10, 9120) : null, flowId: i,
    iatUs: { n: 21, min: 0, max: 48211, mean: 16666, m2: 3.3e9 }, payloadLen: { n: 22, min: 0, max: 1448, mean: 402, m2: 2e6 },
    activeUs: { n: 1, min: 350000, max: 350000, mean: 350000, m2: 0 }, idleUs: {}, subflowCount: 1,
    communityId: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=', recordSeq: i % 4, recordType: 1 + (i % 2), ipVersion: 6, tunnelType: i % 2 ? 2 : 0,
    tunnelId: i % 2 ? 0 : null, earlySizes: [60, -60, 52, -1500, 0, 2 ** 31 - 1, -(2 ** 31)], earlyGapsUs: [0, 812, 2 ** 40],
    app: i % 4 === 0 ? null : {
      dnsQuery: 'ü'.repeat(i % 200), dnsQtype: 0, dnsRcode: i % 2 ? 3 : null, dnsAnswers: ['', 'a.example', '10.0.0.1'],
      tlsSni: 'www.example.org', tlsAlpn: ['h2', 'http/1.1'], tlsVersion: 0x0304, ja4: 't13d1516h2_8daaf6152771_02713d6af862',
      httpMethod: '', httpHost: 'x'.repeat(130), httpUserAgent: 'Mozilla/5.0 (X11; Linux x86_64) 🦊', quicVersion: 0,
    },
    connState: 'SF', icmpErrors: i % 2, tsRegressions: 0,
  };
}

t.test('the hand encoder and protobufjs produce the same message, field for field', async (t) => {
  agree(t, [webFlow(0)], 'one flow');
  agree(t, Array.from({ length: 300 }, (_, i) => webFlow(i)), 'strings of 0–400 UTF-8 bytes, optional zeros, empty list entries, extreme numbers');
  agree(t, [], 'an empty batch');
  agree(t, [{ srcAddr: Uint8Array.of(1, 2, 3, 4), dstAddr: Uint8Array.of(5, 6, 7, 8), fwd: {}, app: {} }], 'empty nested messages');
  // past the first buffer (1 MiB), and a batch length of four varint bytes
  agree(t, Array.from({ length: 3000 }, (_, i) => webFlow(i)), '3,000 flows, about 2.5 MB');
});

t.test('the agent\'s own records of a real capture encode as protobufjs encodes them', async (t) => {
  const records = await captureRecords(join(__dirname, '../../../../shared/pcaps/dev/fpcap__linux-cooked-unsw-nb15.pcap'));
  t.ok(records.length > 50, `${records.length} flows`);
  agree(t, records, 'every record');
});

t.test('one encoder reused: each batch is whole until the next encode', async (t) => {
  const enc = new BatchEncoder();
  const small = [webFlow(1)];
  const first = Buffer.from(enc.encode(1, 'b', 0, small));
  const big = Array.from({ length: 50 }, (_, i) => webFlow(i));
  t.same(read(enc.encode(2, 'b', 0, big)), read(encodeAgentMessage({ batch: { seq: 2, bootId: 'b', createdUs: 0, flows: big } })));
  t.same(Buffer.from(enc.encode(1, 'b', 0, small)), first, 'a smaller batch after a larger one carries nothing of it');
});
