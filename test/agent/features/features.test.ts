// Flow features of hand-built flows against values computed by hand.
import t from 'tap';
import { PacketMeta, IPPROTO_UDP, IPPROTO_ICMP, TCP_SYN, TCP_ACK, TCP_FIN, TCP_RST, TCP_PSH } from '../../../agent/decode/packet-meta';
import { FlowTable, type FlowTableOptions } from '../../../agent/flow/flow-table';
import { toFlowRecord } from '../../../agent/features/flow-record';
import { communityId } from '../../../agent/features/community-id';
import { flowJsonLine } from '../../../agent/export/flow-json';
import { CIC_COLUMNS, CIC_HEADER, flowToCicRow } from '../../../agent/export/cic-csv';
import type { IFlowRecord } from '../../../proto';
import { fill, ipv4Word, type PacketSpec } from '../../helpers/packets';

const OPTS: FlowTableOptions = {
  maxFlows: 1000, idleTimeoutUs: 600e6, tcpIdleTimeoutUs: 600e6, tcpHalfOpenTimeoutUs: 600e6, icmpIdleTimeoutUs: 600e6,
  activeTimeoutUs: 3600e6, tcpCloseGraceUs: 2e6, activeScanIntervalUs: 1e6, earlyPackets: 4, appInspectPackets: 0, features: 'full',
};
const NO_FRAME = new Uint8Array(0);
const T0 = 1_700_000_000_000_000;
const C = '10.0.0.1';
const S = '192.0.2.80';

function meter(packets: Array<PacketSpec & { mss?: number; wscale?: number; sack?: boolean; ttl?: number; quote?: [string, number, string, number, number] }>,
  opts: Partial<FlowTableOptions> = {}, flush = true) {
  const records: IFlowRecord[] = [];
  const lines: string[] = [];
  const table = new FlowTable({ ...OPTS, ...opts }, (slots, slot, reason) => {
    records.push(toFlowRecord(slots, slot, reason));
    lines.push(flowJsonLine(slots, slot, reason));
  });
  const m = new PacketMeta();
  for (const p of packets) {
    fill(m, p);
    if (p.mss !== undefined) m.tcpMss = p.mss;
    if (p.wscale !== undefined) m.tcpWscale = p.wscale;
    if (p.sack) m.tcpSackOk = true;
    if (p.ttl !== undefined) m.ttl = p.ttl;
    if (p.quote) {
      m.icmpQuoteValid = true;
      m.quoteSrc[0] = ipv4Word(p.quote[0]);
      m.quoteSrcPort = p.quote[1];
      m.quoteDst[0] = ipv4Word(p.quote[2]);
      m.quoteDstPort = p.quote[3];
      m.quoteProtocol = p.quote[4];
    }
    table.add(m, NO_FRAME);
  }
  if (flush) table.flushAll();
  return { records, json: lines.map((l) => JSON.parse(l)) as Array<Record<string, any>>, table };
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-6;

t.test('timing features: bidirectional gaps, activity periods, subflows, early packets', async (t) => {
  // Packets at 0, 0.5 s (reply), 7 s, 7.2 s (reply), 20 s: two gaps > 5 s split three activity periods.
  const at = [0, 500_000, 7_000_000, 7_200_000, 20_000_000];
  const { json } = meter(at.map((dt, i) => ({
    src: i % 2 ? S : C, dst: i % 2 ? C : S, sport: i % 2 ? 53 : 5353, dport: i % 2 ? 5353 : 53, proto: IPPROTO_UDP,
    payload: 10 * (i + 1), tsUs: T0 + dt,
  })));
  t.equal(json.length, 1);
  const f = json[0];
  const gaps = [500_000, 6_500_000, 200_000, 12_800_000];
  const mean = gaps.reduce((a, b) => a + b) / 4;
  const std = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / 3);
  t.equal(f.iat_us_n, 4);
  t.equal(f.iat_us_min, 200_000);
  t.equal(f.iat_us_max, 12_800_000);
  t.ok(close(f.iat_us_mean, mean));
  t.ok(close(f.iat_us_std, std), 'sample std (n - 1)');
  // Active periods: [0, 0.5 s] then [7 s, 7.2 s]; the last one (a single packet at 20 s) has length 0 and is skipped.
  t.equal(f.active_us_n, 2);
  t.equal(f.active_us_min, 200_000);
  t.equal(f.active_us_max, 500_000);
  t.equal(f.idle_us_n, 2);
  t.same([f.idle_us_min, f.idle_us_max], [6_500_000, 12_800_000]);
  t.equal(f.subflow_count, 3, 'two gaps over 1 s, plus one');
  t.same(f.early_sizes, [38, -48, 58, -68], 'IP lengths, negative from the responder, first 4 only');
  t.same(f.early_gaps_us, [0, 500_000, 6_500_000, 200_000]);
  // Payload lengths over both directions: 10, 20, 30, 40, 50.
  t.equal(f.payload_len_mean, 30);
  t.ok(close(f.payload_len_std, Math.sqrt(250)));
  t.equal(f.fwd_payload_len_mean, 30);
  t.same([f.bwd_payload_len_min, f.bwd_payload_len_max], [20, 40]);
});

t.test('TCP features: options and window from the SYNs, flag counts on every packet, conn_state SF', async (t) => {
  const c = { src: C, dst: S, sport: 40000, dport: 443 };
  const s = { src: S, dst: C, sport: 443, dport: 40000 };
  const { json } = meter([
    { ...c, flags: TCP_SYN, window: 64240, mss: 1460, wscale: 7, sack: true, ttl: 64, tsUs: T0 },
    { ...s, flags: TCP_SYN | TCP_ACK, window: 65160, mss: 1400, wscale: 9, ttl: 57, tsUs: T0 + 1000 },
    { ...c, flags: TCP_ACK, window: 502, tsUs: T0 + 2000 },
    { ...c, flags: TCP_ACK | TCP_PSH, window: 502, payload: 500, tsUs: T0 + 3000 },
    { ...s, flags: TCP_ACK | TCP_PSH, window: 1000, payload: 1400, tsUs: T0 + 4000 },
    { ...s, flags: TCP_ACK | TCP_PSH, window: 1000, payload: 1400, tsUs: T0 + 5000 },
    { ...c, flags: TCP_FIN | TCP_ACK, tsUs: T0 + 6000 },
    { ...s, flags: TCP_FIN | TCP_ACK, tsUs: T0 + 7000 },
    { ...c, flags: TCP_ACK, tsUs: T0 + 8000 },
  ]);
  const f = json[0];
  t.match(f, {
    fwd_init_window: 64240, bwd_init_window: 65160, fwd_tcp_mss: 1460, bwd_tcp_mss: 1400, fwd_tcp_wscale: 7,
    bwd_tcp_wscale: 9, fwd_tcp_sack_ok: true, bwd_tcp_sack_ok: false, fwd_syn_ttl: 64, bwd_syn_ttl: 57,
    fwd_psh_count: 1, bwd_psh_count: 2, fwd_ack_count: 4, bwd_ack_count: 4, fwd_fin_count: 1, bwd_fin_count: 1,
    fwd_first_tcp_flags: TCP_SYN, bwd_first_tcp_flags: TCP_SYN | TCP_ACK, conn_state: 'SF',
    fwd_nonempty_packets: 1, bwd_nonempty_packets: 2, fwd_l4_header_bytes: 5 * 20, fwd_l4_header_len_min: 20,
    end_reason: 'end_of_flow', record_type: 'final', record_seq: 0,
  });
});

t.test('conn_state for failed and odd connections', async (t) => {
  const syn = (sport: number, ts: number): PacketSpec => ({ src: C, dst: S, sport, dport: 22, flags: TCP_SYN, tsUs: ts });
  const { json } = meter([
    syn(1, T0),                                                                           // S0
    syn(2, T0 + 1), { src: S, dst: C, sport: 22, dport: 2, flags: TCP_RST | TCP_ACK, tsUs: T0 + 2 }, // REJ
    syn(3, T0 + 3), { src: S, dst: C, sport: 22, dport: 3, flags: TCP_SYN | TCP_ACK, tsUs: T0 + 4 },
    { src: C, dst: S, sport: 3, dport: 22, flags: TCP_RST, tsUs: T0 + 5 },                 // RSTO
    { src: C, dst: S, sport: 4, dport: 22, flags: TCP_ACK, payload: 10, tsUs: T0 + 6 },    // OTH (midstream)
    syn(5, T0 + 7), { src: S, dst: C, sport: 22, dport: 5, flags: TCP_SYN | TCP_ACK, tsUs: T0 + 8 }, // S1
  ]);
  const byPort = Object.fromEntries(json.map((f) => [f.src_port, f.conn_state]));
  t.same(byPort, { 1: 'S0', 2: 'REJ', 3: 'RSTO', 4: 'OTH', 5: 'S1' });
});

t.test('bulk: four payload packets in one direction within 1 s, the other side silent', async (t) => {
  const c = { src: C, dst: S, sport: 40001, dport: 80 };
  const s = { src: S, dst: C, sport: 80, dport: 40001 };
  const { json } = meter([
    { ...c, flags: TCP_ACK, payload: 100, tsUs: T0 },
    { ...c, flags: TCP_ACK, payload: 200, tsUs: T0 + 100_000 },
    { ...s, flags: TCP_ACK, payload: 10, tsUs: T0 + 150_000 },       // breaks the client's run
    { ...c, flags: TCP_ACK, payload: 300, tsUs: T0 + 200_000 },      // a new run starts here
    { ...c, flags: TCP_ACK, payload: 400, tsUs: T0 + 300_000 },
    { ...c, flags: TCP_ACK, payload: 500, tsUs: T0 + 400_000 },
    { ...c, flags: TCP_ACK, payload: 600, tsUs: T0 + 500_000 },      // 4th: the bulk counts
    { ...c, flags: TCP_ACK, payload: 700, tsUs: T0 + 600_000 },      // 5th: added to it
    { ...c, flags: TCP_ACK, payload: 800, tsUs: T0 + 2_000_000 },    // > 1 s later: a new run
  ]);
  const f = json[0];
  t.match(f, { fwd_bulk_count: 1, fwd_bulk_packets: 5, fwd_bulk_bytes: 300 + 400 + 500 + 600 + 700, fwd_bulk_duration_us: 400_000, bwd_bulk_count: 0 });
});

t.test('long flows give interim records that merge exactly into the whole', async (t) => {
  const pkts: PacketSpec[] = [];
  for (let i = 0; i < 100; i++) {
    pkts.push({ src: C, dst: S, sport: 7000, dport: 7001, proto: IPPROTO_UDP, payload: 10 + (i % 7) * 13, tsUs: T0 + i * 1_000_000 });
  }
  const { json } = meter(pkts, { activeTimeoutUs: 30e6, activeScanIntervalUs: 1e6 });
  t.ok(json.length >= 3, `${json.length} records`);
  t.same(json.map((r) => r.record_seq), json.map((_, i) => i));
  t.ok(json.slice(0, -1).every((r) => r.record_type === 'interim' && r.end_reason === 'active'));
  t.equal(json[json.length - 1].record_type, 'final');
  t.ok(json.every((r) => r.flow_id === json[0].flow_id && r.community_id === json[0].community_id && r.src_port === 7000));
  // Merge (Chan et al.): counts add, means combine by weight, M2 adds plus the between-means term.
  let n = 0, mean = 0, m2 = 0;
  for (const r of json) {
    const nb = r.fwd_payload_len_n, mb = r.fwd_payload_len_mean, m2b = r.fwd_payload_len_std ** 2 * (nb - 1);
    const delta = mb - mean;
    const total = n + nb;
    m2 += m2b + delta * delta * n * nb / total;
    mean += delta * nb / total;
    n = total;
  }
  const sizes = pkts.map((p) => p.payload!);
  const trueMean = sizes.reduce((a, b) => a + b) / sizes.length;
  const trueStd = Math.sqrt(sizes.reduce((a, x) => a + (x - trueMean) ** 2, 0) / (sizes.length - 1));
  t.equal(n, 100);
  t.ok(close(mean, trueMean), 'merged mean is exact');
  t.ok(close(Math.sqrt(m2 / (n - 1)), trueStd), 'merged std is exact');
  t.equal(json.reduce((a, r) => a + r.fwd_packets, 0), 100);
});

t.test('per-protocol idle timeouts: an unanswered SYN goes long before an established connection', async (t) => {
  const { json } = meter([
    { src: C, dst: S, sport: 1, dport: 80, flags: TCP_SYN, tsUs: T0 },
    { src: C, dst: S, sport: 2, dport: 80, flags: TCP_SYN, tsUs: T0 },
    { src: S, dst: C, sport: 80, dport: 2, flags: TCP_SYN | TCP_ACK, tsUs: T0 + 1 },
    { src: C, dst: S, sport: 9, dport: 9, proto: IPPROTO_UDP, tsUs: T0 + 30e6 },
  ], { tcpHalfOpenTimeoutUs: 20e6, tcpIdleTimeoutUs: 300e6, idleTimeoutUs: 120e6 }, false);
  t.equal(json.length, 1);
  t.match(json[0], { src_port: 1, end_reason: 'idle', conn_state: 'S0' });
});

t.test('a table near its bound enters emergency mode and times flows out faster', async (t) => {
  const pkts: PacketSpec[] = [];
  for (let i = 0; i < 20; i++) pkts.push({ src: C, dst: S, sport: 1000 + i, dport: 53, proto: IPPROTO_UDP, tsUs: T0 + i });
  pkts.push({ src: C, dst: S, sport: 9999, dport: 53, proto: IPPROTO_UDP, tsUs: T0 + 35e6 });
  const { json, table } = meter(pkts, { maxFlows: 20, idleTimeoutUs: 120e6 }, false);
  t.equal(table.counters.emergencyEntered, 1);
  t.equal(json.filter((f) => f.end_reason === 'idle').length, 20, 'idle after 35 s: a quarter of 120 s');
  t.equal(table.counters.evictedFull, 0, 'the timeouts made room before anything had to be evicted');
});

t.test('an ICMP error is counted on the flow it quotes', async (t) => {
  const { json, table } = meter([
    { src: C, dst: S, sport: 33000, dport: 33434, proto: IPPROTO_UDP, tsUs: T0 },
    { src: S, dst: C, proto: IPPROTO_ICMP, icmpType: 3, payload: 28, tsUs: T0 + 10, quote: [C, 33000, S, 33434, IPPROTO_UDP] },
  ]);
  t.equal(table.counters.icmpErrorsAttributed, 1);
  const udp = json.find((f) => f.proto === 17)!;
  t.equal(udp.icmp_errors, 1);
  t.equal(json.find((f) => f.proto === 1)!.dst_port, 3 << 8, 'the error is also a flow of its own');
});

t.test('Community ID v1 matches the spec\'s reference values', async (t) => {
  const a = Uint8Array.from([1, 2, 3, 4]);
  const b = Uint8Array.from([5, 6, 7, 8]);
  t.equal(communityId(a, b, 6, 1122, 3344), '1:wCb3OG7yAFWelaUydu0D+125CLM=');
  t.equal(communityId(b, a, 6, 3344, 1122), '1:wCb3OG7yAFWelaUydu0D+125CLM=', 'direction-independent');
  t.equal(communityId(a, b, 17, 1122, 3344), '1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=');
  t.match(communityId(a, b, 1, 8, 0), /^1:crodRH/);
});

t.test('CICFlowMeter CSV: header names and order, values from the record, no Infinity or NaN', async (t) => {
  t.equal(CIC_COLUMNS.length, 83);
  t.equal(CIC_HEADER.split(',')[7], 'Flow Duration');
  t.notOk(CIC_HEADER.includes('Fwd Header Length.1'), 'the duplicated column is gone');
  const { records } = meter([
    { src: C, dst: S, sport: 40000, dport: 80, flags: TCP_SYN, window: 100, tsUs: T0 },
    { src: S, dst: C, sport: 80, dport: 40000, flags: TCP_SYN | TCP_ACK, window: 200, tsUs: T0 + 1_000_000 },
    { src: C, dst: S, sport: 40000, dport: 80, flags: TCP_ACK | TCP_PSH, window: 300, payload: 100, tsUs: T0 + 2_000_000 },
    { src: S, dst: C, sport: 80, dport: 40000, flags: TCP_ACK, window: 400, payload: 300, tsUs: T0 + 3_000_000 },
  ]);
  const row = flowToCicRow(records[0]).split(',');
  t.equal(row.length, CIC_COLUMNS.length);
  const col = (name: string): string => row[CIC_COLUMNS.indexOf(name as (typeof CIC_COLUMNS)[number])];
  t.equal(col('Flow Duration'), '3000000');
  t.equal(col('Total Fwd Packet'), '2');
  t.equal(col('Total Length of Bwd Packet'), '300');
  t.equal(col('Flow Bytes/s'), '133.333333');
  t.equal(col('Fwd PSH Flags'), '1', 'counted on every packet, not only the first');
  t.equal(col('Bwd Init Win Bytes'), '200', 'the SYN-ACK window, not the last one');
  t.equal(col('Down/Up Ratio'), '1');
  t.equal(col('Packet Length Mean'), '100', '(0 + 0 + 100 + 300) / 4, first packet counted once');
  t.equal(col('Fwd Act Data Pkts'), '1');
  t.equal(col('Subflow Fwd Packets'), '2', 'gaps of exactly 1 s do not start a subflow: one subflow');
  t.equal(col('Timestamp'), '2023-11-14T22:13:20.000000Z');
  const single = meter([{ src: C, dst: S, sport: 1, dport: 2, proto: IPPROTO_UDP, tsUs: T0 }]).records[0];
  const srow = flowToCicRow(single).split(',');
  t.equal(srow[CIC_COLUMNS.indexOf('Flow Bytes/s')], '', 'a rate over zero time is empty, not Infinity');
  t.notOk(/Infinity|NaN/.test(srow.join(',')));
});
