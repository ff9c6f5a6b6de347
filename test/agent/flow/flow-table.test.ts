import t from 'tap';
import { PacketMeta, IPPROTO_UDP, IPPROTO_ICMP, TCP_SYN, TCP_ACK, TCP_FIN, TCP_RST, TCP_PSH } from '../../../agent/decode/packet-meta';
import { FlowTable, type FlowTableOptions } from '../../../agent/flow/flow-table';
import { flowKey } from '../../../agent/flow/flow-key';
import { toFlowRecord } from '../../../agent/features/flow-record';
import { flowJsonLine } from '../../../agent/export/flow-json';
import { EndReason, type IFlowRecord } from '../../../proto';
import { fill, type PacketSpec } from '../../helpers/packets';

const OPTS: FlowTableOptions = {
  maxFlows: 1000, idleTimeoutUs: 60e6, tcpIdleTimeoutUs: 60e6, tcpHalfOpenTimeoutUs: 60e6, icmpIdleTimeoutUs: 60e6,
  activeTimeoutUs: 1800e6, tcpCloseGraceUs: 2e6, activeScanIntervalUs: 10e6, earlyPackets: 10, appInspectPackets: 4, features: 'full',
};
const NO_FRAME = new Uint8Array(0);

function meter(packets: PacketSpec[], opts: Partial<FlowTableOptions> = {}, flush = true) {
  const out: Array<Record<string, any>> = [];
  const records: IFlowRecord[] = [];
  const table = new FlowTable({ ...OPTS, ...opts }, (slots, slot, reason) => {
    records.push(toFlowRecord(slots, slot, reason));
    out.push(JSON.parse(flowJsonLine(slots, slot, reason)));
  });
  const m = new PacketMeta();
  for (const p of packets) table.add(fill(m, p), NO_FRAME);
  if (flush) table.flushAll();
  return { out, records, table };
}

const T0 = 1_700_000_000_000_000;
const C = '10.0.0.1';
const S = '192.0.2.80';

const HANDSHAKE_AND_TEARDOWN: PacketSpec[] = [
    { src: C, dst: S, sport: 40000, dport: 80, flags: TCP_SYN, window: 64240, ipLen: 60, tsUs: T0 },
    { src: S, dst: C, sport: 80, dport: 40000, flags: TCP_SYN | TCP_ACK, window: 65160, ipLen: 60, tsUs: T0 + 1000 },
    { src: C, dst: S, sport: 40000, dport: 80, flags: TCP_ACK, ipLen: 52, tsUs: T0 + 2000 },
    { src: C, dst: S, sport: 40000, dport: 80, flags: TCP_ACK | TCP_PSH, payload: 100, tsUs: T0 + 3000 },
    { src: S, dst: C, sport: 80, dport: 40000, flags: TCP_ACK | TCP_PSH, payload: 1000, tsUs: T0 + 13000 },
    { src: C, dst: S, sport: 40000, dport: 80, flags: TCP_FIN | TCP_ACK, tsUs: T0 + 20000 },
    { src: S, dst: C, sport: 80, dport: 40000, flags: TCP_FIN | TCP_ACK, tsUs: T0 + 21000 },
    { src: C, dst: S, sport: 40000, dport: 80, flags: TCP_ACK, tsUs: T0 + 22000 },
  ];

t.test('a TCP connection is one bidirectional flow with exact per-direction counts', async (t) => {
  const { out } = meter(HANDSHAKE_AND_TEARDOWN);
  t.equal(out.length, 1);
  const f = out[0];
  t.match(f, { src_ip: C, src_port: 40000, dst_ip: S, dst_port: 80, proto: 6, vlan: null, end_reason: 'end_of_flow' });
  t.equal(f.fwd_packets, 5);
  t.equal(f.bwd_packets, 3);
  t.equal(f.fwd_ip_bytes, 60 + 52 + 140 + 40 + 40);
  t.equal(f.bwd_ip_bytes, 60 + 1040 + 40);
  t.equal(f.fwd_payload_bytes, 100);
  t.equal(f.bwd_payload_bytes, 1000);
  t.equal(f.tcp_flags, TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN);
  t.equal(f.fwd_init_window, 64240);
  t.equal(f.bwd_init_window, 65160);
  t.equal(f.fwd_syn_count, 1);
  t.equal(f.bwd_fin_count, 1);
  t.equal(f.first_ts, T0 / 1e6);
  t.equal(f.last_ts, (T0 + 22000) / 1e6);
  t.equal(f.fwd_len_min, 40);
  t.equal(f.fwd_len_max, 140);
  const fwdLens = [60, 52, 140, 40, 40];
  const mean = fwdLens.reduce((a, b) => a + b) / 5;
  t.ok(Math.abs(f.fwd_len_mean - mean) < 1e-9, 'Welford mean equals the plain mean');
  const std = Math.sqrt(fwdLens.reduce((a, b) => a + (b - mean) ** 2, 0) / 4);
  t.ok(Math.abs(f.fwd_len_std - std) < 1e-9, 'Welford std equals the two-pass sample std');
  // fwd gaps: 2000, 1000, 17000, 2000 µs
  t.equal(f.fwd_iat_us_min, 1000);
  t.equal(f.fwd_iat_us_max, 17000);
  t.equal(f.fwd_iat_us_mean, 5500);
});

t.test('compact features keep the NetFlow fields exact and leave the statistics out', async (t) => {
  const full = meter(HANDSHAKE_AND_TEARDOWN).out[0];
  const { out, table } = meter([...HANDSHAKE_AND_TEARDOWN, { src: C, dst: S, sport: 40001, dport: 53, proto: IPPROTO_UDP, ipLen: 60, tsUs: T0 }],
    { features: 'compact' });
  t.equal(out.length, 2);
  const f = out.find((r) => r.proto === 6)!;
  for (const k of ['src_ip', 'src_port', 'dst_ip', 'dst_port', 'proto', 'first_ts', 'last_ts', 'fwd_packets', 'bwd_packets',
    'fwd_ip_bytes', 'bwd_ip_bytes', 'fwd_payload_bytes', 'bwd_payload_bytes', 'tcp_flags', 'fwd_syn_count', 'bwd_fin_count',
    'end_reason', 'conn_state', 'community_id']) {
    t.same(f[k], full[k], k);
  }
  t.equal(f.conn_state, 'SF');
  t.equal(full.fwd_len_max, 140, 'the full set has the statistics');
  t.not(f.fwd_len_max, 140, 'the compact set leaves them out');
  t.same(f.early_sizes ?? [], []);
  t.same(full.early_sizes, [60, -60, 52, 140, -1040, 40, -40, 40]);
  t.equal(table.slots.full, false);
  t.equal(table.slots.sf64.length, 0, 'no statistics columns are allocated');
});

t.test('a SYN-ACK seen first makes its receiver the initiator (backscatter)', async (t) => {
  const { out } = meter([{ src: S, dst: C, sport: 80, dport: 2155, flags: TCP_SYN | TCP_ACK, tsUs: T0 }]);
  t.match(out[0], { src_ip: C, src_port: 2155, dst_ip: S, dst_port: 80, fwd_packets: 0, bwd_packets: 1, fwd_syn_count: 0 });
});

t.test('an RST ends the flow after the grace period; a new SYN on the same ports starts a new flow', async (t) => {
  const { out } = meter([
    { src: C, dst: S, sport: 40001, dport: 81, flags: TCP_SYN, tsUs: T0 },
    { src: S, dst: C, sport: 81, dport: 40001, flags: TCP_RST | TCP_ACK, tsUs: T0 + 100 },
    { src: C, dst: S, sport: 40001, dport: 81, flags: TCP_SYN, tsUs: T0 + 500_000 },
    { src: C, dst: S, sport: 40002, dport: 83, flags: TCP_SYN, tsUs: T0 + 1_000_000 },
    { src: S, dst: C, sport: 83, dport: 40002, flags: TCP_RST | TCP_ACK, tsUs: T0 + 1_000_100 },
    { src: C, dst: S, sport: 40003, dport: 84, flags: TCP_SYN, tsUs: T0 + 5_000_000 },
  ], {}, false);
  t.equal(out.length, 2, 'one ended by the reused-port SYN, one by grace expiry at the next sweep');
  t.match(out[0], { dst_port: 81, end_reason: 'end_of_flow', fwd_packets: 1, bwd_packets: 1, bwd_rst_count: 1 });
  t.match(out[1], { dst_port: 83, end_reason: 'end_of_flow', fwd_packets: 1, bwd_packets: 1 });
});

t.test('idle and active timeouts end flows in packet time', async (t) => {
  const pkts: PacketSpec[] = [
    { src: C, dst: S, sport: 5000, dport: 53, proto: IPPROTO_UDP, payload: 30, tsUs: T0 },
  ];
  // A long flow with a packet every 10 s, for 40 s, and an active timeout of 25 s.
  for (let i = 0; i <= 4; i++) pkts.push({ src: C, dst: S, sport: 6000, dport: 123, proto: IPPROTO_UDP, payload: 48, tsUs: T0 + i * 10e6 });
  pkts.push({ src: C, dst: S, sport: 7000, dport: 9, proto: IPPROTO_UDP, tsUs: T0 + 100e6 });
  const { out } = meter(pkts, { idleTimeoutUs: 30e6, activeTimeoutUs: 25e6 }, false);
  const reasons = out.map((f) => `${f.src_port}:${f.end_reason}:${f.fwd_packets}`);
  t.ok(reasons.includes('5000:idle:1'), reasons.join(' '));
  t.ok(reasons.includes('6000:active:3'), 'active timeout split the long flow');
  t.ok(reasons.includes('6000:idle:2'), 'the rest of it ended idle');
});

t.test('the active-timeout scan is skipped only while no flow can be due, out-of-order first packets included', async (t) => {
  const pkts: PacketSpec[] = [];
  for (let i = 0; i <= 3; i++) pkts.push({ src: C, dst: S, sport: 6000, dport: 123, proto: IPPROTO_UDP, payload: 48, tsUs: T0 + i * 10e6 });
  // After the scan at +30 s found nothing else open, a flow starts with an older timestamp (+5 s): it is
  // due at the next scan (+40 s), which the first-packet floor must not skip.
  pkts.push({ src: C, dst: S, sport: 8000, dport: 9, proto: IPPROTO_UDP, tsUs: T0 + 5e6 });
  pkts.push({ src: C, dst: S, sport: 6000, dport: 123, proto: IPPROTO_UDP, payload: 48, tsUs: T0 + 40e6 });
  const { out } = meter(pkts, { idleTimeoutUs: 1000e6, activeTimeoutUs: 25e6 }, false);
  t.same(out.map((f) => `${f.src_port}:${f.end_reason}:${f.fwd_packets}`), ['6000:active:3', '8000:active:1']);
});

t.test('idle expiry is exact although a flow moves in its recency list at most once a second', async (t) => {
  // A gets packets 0.5 s apart (it stays where it was listed, ahead of B); B and C one packet each.
  const udp = (port: number, tsUs: number): PacketSpec => ({ src: C, dst: S, sport: 40000 + port, dport: 9999, proto: IPPROTO_UDP, ipLen: 50, tsUs });
  const { out, table } = meter([udp(1, T0), udp(2, T0 + 0.2e6), udp(1, T0 + 0.5e6), udp(1, T0 + 0.9e6), udp(3, T0 + 0.95e6)],
    { idleTimeoutUs: 10e6 }, false);
  const ended = () => out.map((f) => `${f.src_port - 40000}:${f.end_reason}:${f.fwd_packets}`);
  table.sweep(T0 + 10.85e6);
  t.same(ended(), ['2:idle:1'], 'B is due, A (listed before it, last seen later) is not');
  table.sweep(T0 + 10.9e6);
  t.same(ended(), ['2:idle:1', '1:idle:3'], 'A goes exactly 10 s after its last packet');
  table.sweep(T0 + 10.94e6);
  t.equal(out.length, 2);
  table.sweep(T0 + 10.95e6);
  t.same(ended(), ['2:idle:1', '1:idle:3', '3:idle:1']);

  // A flow with a packet every 0.3 s for a minute, timeout 10 s, swept every second: it never ends idle,
  // while one-packet flows started along the way end 10 s after their packet.
  const pkts: PacketSpec[] = [];
  for (let i = 0; i < 200; i++) {
    pkts.push(udp(7, T0 + i * 0.3e6));
    if (i % 10 === 0) pkts.push(udp(100 + i, T0 + i * 0.3e6 + 1));
  }
  const long = meter(pkts, { idleTimeoutUs: 10e6, activeTimeoutUs: 3600e6 }, false);
  long.table.sweep(T0 + 60e6);
  t.notOk(long.out.some((f) => f.src_port === 40007), 'the busy flow is still open');
  t.equal(long.out.length, 17, 'every one-packet flow 10 s old or more has ended');
  t.ok(long.out.every((f) => f.last_ts + 10 <= 60 + T0 / 1e6 && f.end_reason === 'idle'));
  long.table.sweep(T0 + 59.7e6 + 10e6);
  t.same(long.out.filter((f) => f.src_port === 40007).map((f) => f.fwd_packets), [200], 'then it ends, 10 s after its last packet');
});

t.test('a full table exports the least recently seen flow with reason resources', async (t) => {
  const pkts: PacketSpec[] = [];
  for (let i = 0; i < 20; i++) pkts.push({ src: C, dst: S, sport: 10000 + i, dport: 443, flags: TCP_SYN, tsUs: T0 + i });
  const { out, table } = meter(pkts, { maxFlows: 16 }, false);
  t.equal(out.length, 4);
  t.same(out.map((f) => f.src_port), [10000, 10001, 10002, 10003]);
  t.ok(out.every((f) => f.end_reason === 'resources'));
  t.equal(table.counters.evictedFull, 4);
  t.equal(table.size, 16);
  table.flushAll();
  t.equal(table.counters.recordsExported, 20, 'every flow leaves exactly once');
});

t.test('compact SYN/FIN/RST counts stop at 255; the full set counts exactly', async (t) => {
  const pkts: PacketSpec[] = [];
  for (let i = 0; i < 300; i++) pkts.push({ src: C, dst: S, sport: 40000, dport: 22, flags: TCP_SYN, tsUs: T0 + i * 1000 });
  const full = meter(pkts).out[0];
  const compact = meter(pkts, { features: 'compact' }).out[0];
  t.equal(full.fwd_syn_count, 300);
  t.equal(compact.fwd_syn_count, 255);
  t.equal(compact.fwd_packets, 300);
  t.equal(compact.conn_state, 'S0');
});

t.test('rows grow past the first allocation and freed rows are reused without mixing flows', async (t) => {
  // 10,000 flows (the slot arrays start at 4,096 rows), two packets each, then 10,000 more after the
  // first ones ended idle: every record has exactly its own packets and addresses.
  const pkts: PacketSpec[] = [];
  const client = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < 10_000; i++) {
    pkts.push({ src: client(i), dst: S, sport: 1024 + (i % 60000), dport: 53, proto: IPPROTO_UDP, ipLen: 60 + (i % 7), tsUs: T0 + i });
    pkts.push({ src: S, dst: client(i), sport: 53, dport: 1024 + (i % 60000), proto: IPPROTO_UDP, ipLen: 100, tsUs: T0 + i + 1 });
  }
  for (let i = 0; i < 10_000; i++) {
    pkts.push({ src: client(i + 20_000), dst: S, sport: 2000, dport: 443, proto: IPPROTO_UDP, ipLen: 70, tsUs: T0 + 120e6 + i });
  }
  const { out, table } = meter(pkts, { maxFlows: 30_000, idleTimeoutUs: 60e6 }, false);
  t.equal(table.size, 10_000);
  t.equal(table.slots.inUse, 10_000, 'the rows of the first flows were freed');
  t.equal(table.slots.rows, 10_000, '... and reused by the next ones');
  table.flushAll();
  t.equal(table.slots.inUse, 0);
  t.equal(out.length, 20_000);
  const first = out.filter((f) => f.dst_port === 53);
  t.equal(first.length, 10_000);
  t.ok(first.every((f) => f.fwd_packets === 1 && f.bwd_packets === 1 && f.bwd_ip_bytes === 100 &&
    f.fwd_ip_bytes === 60 + (Number(f.src_ip.split('.')[3]) + 256 * Number(f.src_ip.split('.')[2])) % 7), 'each DNS flow has its own two packets');
  t.ok(first.every((f) => f.end_reason === 'idle'));
  const second = out.filter((f) => f.dst_port === 443);
  t.ok(second.every((f) => f.fwd_packets === 1 && f.bwd_packets === 0 && f.fwd_ip_bytes === 70 && f.src_port === 2000));
  t.equal(new Set(out.map((f) => f.flow_id)).size, 20_000, 'flow ids are unique');
});

t.test('VLANs separate flows; ICMP echo pairs into one flow keyed by type/code', async (t) => {
  const { records, out } = meter([
    { src: C, dst: S, sport: 1, dport: 2, proto: IPPROTO_UDP, vlan: 10, tsUs: T0 },
    { src: C, dst: S, sport: 1, dport: 2, proto: IPPROTO_UDP, vlan: 20, tsUs: T0 + 1 },
    { src: C, dst: S, proto: IPPROTO_ICMP, icmpType: 8, payload: 56, tsUs: T0 + 2 },
    { src: S, dst: C, proto: IPPROTO_ICMP, icmpType: 0, payload: 56, tsUs: T0 + 3 },
  ]);
  t.equal(out.length, 3);
  t.same(out.filter((f) => f.proto === 17).map((f) => f.vlan).sort(), [10, 20]);
  const icmp = out.find((f) => f.proto === 1)!;
  t.match(icmp, { fwd_packets: 1, bwd_packets: 1, dst_port: 8 << 8 });
  t.equal(records.find((r) => r.protocol === 1)!.endReason, EndReason.END_REASON_FORCED);
});

t.test('keys are direction-independent and collisions never merge flows', async (t) => {
  // 50,000 distinct flows, each with a packet both ways: every flow must come out with 1+1 packets.
  const pkts: PacketSpec[] = [];
  for (let i = 0; i < 50000; i++) {
    const a = `10.${(i >> 8) & 255}.${i & 255}.1`;
    pkts.push({ src: a, dst: S, sport: 1024 + (i % 50000), dport: 443, proto: IPPROTO_UDP, tsUs: T0 + i });
    pkts.push({ src: S, dst: a, sport: 443, dport: 1024 + (i % 50000), proto: IPPROTO_UDP, tsUs: T0 + i });
  }
  const { out } = meter(pkts, { maxFlows: 100000 });
  t.equal(out.length, 50000);
  t.ok(out.every((f) => f.fwd_packets === 1 && f.bwd_packets === 1));
});

t.test('two flows whose keys collide stay apart, also after one of them leaves the table', async (t) => {
  // Find two UDP tuples with the same int32 key (a birthday search over client addresses and ports).
  const seen = new Map<number, [string, number]>();
  const m = new PacketMeta();
  let pair: [[string, number], [string, number]] | null = null;
  for (let i = 0; pair === null; i++) {
    const a = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const sport = 1024 + (i % 60000);
    const key = flowKey(fill(m, { src: a, dst: S, sport, dport: 53, proto: IPPROTO_UDP, tsUs: T0 }));
    const other = seen.get(key);
    if (other) pair = [other, [a, sport]];
    else seen.set(key, [a, sport]);
  }
  const [[a1, p1], [a2, p2]] = pair;
  const q = (a: string, p: number, ts: number): PacketSpec => ({ src: a, dst: S, sport: p, dport: 53, proto: IPPROTO_UDP, tsUs: ts });
  const r = (a: string, p: number, ts: number): PacketSpec => ({ src: S, dst: a, sport: 53, dport: p, proto: IPPROTO_UDP, tsUs: ts });
  const { out, table } = meter([
    q(a1, p1, T0), r(a1, p1, T0 + 1), q(a2, p2, T0 + 50e6), r(a2, p2, T0 + 50e6 + 2),
    // At 61 s the first flow has been idle over 60 s and goes; the second must still be found through the chain.
    q(a2, p2, T0 + 61e6), r(a2, p2, T0 + 61e6 + 1),
  ], {}, false);
  t.equal(table.counters.keyCollisions, 1);
  t.equal(out.length, 1);
  t.match(out[0], { src_ip: a1, src_port: p1, fwd_packets: 1, bwd_packets: 1, end_reason: 'idle' });
  table.flushAll();
  t.match(out[1], { src_ip: a2, src_port: p2, fwd_packets: 2, bwd_packets: 2 });
});
