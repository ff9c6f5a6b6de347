import t from 'tap';
import { isConnectionAttempt, PortScanDetector, type PortScanOptions } from '../../../collector/detect';
import { flowRef } from '../../../collector/detect/evidence';
import type { DirectionStats, FlowRow, NewAlert } from '../../../collector/model';

const T0 = 1_700_000_000_000_000;
const SEC = 1_000_000;

function stats(s: Partial<DirectionStats> = {}): DirectionStats {
  return {
    packets: 0, ipBytes: 0, payloadBytes: 0, headerBytes: 0, tcpFlags: 0, synCount: 0, finCount: 0, rstCount: 0,
    pshCount: 0, ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 0, lenM2: 0,
    iatCount: 0, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 0, iatM2Us: 0, ...s,
  };
}

const SYN = stats({ packets: 1, tcpFlags: 0x02, synCount: 1, ipBytes: 44 });
const RST_ACK = stats({ packets: 1, tcpFlags: 0x14, rstCount: 1, ackCount: 1 });

let flowId = 1;
function row(p: Partial<FlowRow> = {}): FlowRow {
  const firstUs = p.firstUs ?? T0;
  return {
    agentId: 'gw1', bootId: 'b', seq: 1, flowId: flowId++, recordSeq: 0, recordType: 'final', communityId: '',
    connState: 'REJ', app: null, srcIp: '10.0.0.66', dstIp: '10.0.0.2', srcPort: 40000,
    dstPort: 80, proto: 6, vlan: null, firstUs, lastUs: firstUs + 500, endReason: 'end_of_flow', fwd: SYN, bwd: RST_ACK,
    ...p,
  };
}

/** `n` probes on distinct ports starting at `base`, one second apart from `start`. */
function probes(n: number, start = T0, base = 1, p: Partial<FlowRow> = {}): FlowRow[] {
  return Array.from({ length: n }, (_, i) => row({ dstPort: base + i, firstUs: start + i * SEC, ...p }));
}

const DEFAULTS: PortScanOptions = { min_ports: 5, window_secs: 300, suppress_secs: 3600, max_tracked_pairs: 100_000 };

function run(d: PortScanDetector, flows: FlowRow[]): NewAlert[] {
  const out: NewAlert[] = [];
  d.onFlows(flows, (a) => out.push(a));
  return out;
}

t.test('5 distinct ports → exactly one alert with the contract fields', async (t) => {
  const d = new PortScanDetector(DEFAULTS);
  const flows = probes(5);
  const alerts = run(d, flows);
  t.equal(alerts.length, 1);
  t.same(alerts[0], {
    category: 'port_scan',
    severity: 'medium',
    attack_id: 'T1046',
    agent_id: 'gw1',
    src_ip: '10.0.0.66',
    dst_ip: '10.0.0.2',
    dst_port: null,
    first_ts: T0 / SEC,
    last_ts: (T0 + 4 * SEC + 500) / SEC,
    score: 5,
    threshold: 5,
    evidence: { ports: [1, 2, 3, 4, 5], flow_count: 5, flow_ids: flows.map((f) => f.flowId), flows: flows.map(flowRef) },
  });
});

t.test('4 distinct ports → no alert; the same port many times → no alert', async (t) => {
  const d = new PortScanDetector(DEFAULTS);
  t.same(run(d, probes(4)), []);
  const d2 = new PortScanDetector(DEFAULTS);
  t.same(run(d2, Array.from({ length: 50 }, (_, i) => row({ dstPort: 22, firstUs: T0 + i * SEC }))), []);
});

t.test('backscatter and non-attempts never count', async (t) => {
  const d = new PortScanDetector(DEFAULTS);
  const synAck = stats({ packets: 1, tcpFlags: 0x12, synCount: 1, ackCount: 1 });
  const synAckRetrans = stats({ packets: 3, tcpFlags: 0x12, synCount: 3, ackCount: 3 });
  const synAckNoCounts = stats({ packets: 1, tcpFlags: 0x12 });
  const rst = stats({ packets: 1, tcpFlags: 0x04, rstCount: 1 });
  const cases: Array<[string, Partial<FlowRow>]> = [
    ['SYN-ACK first (backscatter)', { fwd: synAck, bwd: RST_ACK }],
    ['retransmitted SYN-ACKs', { fwd: synAckRetrans, bwd: stats() }],
    ['SYN-ACK, flag bits only', { fwd: synAckNoCounts, bwd: stats() }],
    ['RST only', { fwd: rst, bwd: stats() }],
    ['initiator sent nothing (agent flipped the direction)', { fwd: stats(), bwd: synAck }],
    ['SYN with payload', { fwd: stats({ packets: 3, tcpFlags: 0x1a, synCount: 1, ackCount: 2, payloadBytes: 120 }) }],
    ['UDP', { proto: 17, fwd: stats({ packets: 1, payloadBytes: 0 }) }],
  ];
  for (const [name, p] of cases) {
    t.notOk(isConnectionAttempt(row(p)), `${name}: not an attempt`);
    t.same(run(d, probes(10, T0, 100, p)), [], `${name}: 10 ports, no alert`);
  }
  t.ok(isConnectionAttempt(row({ fwd: SYN })), 'bare SYN is an attempt');
  t.ok(isConnectionAttempt(row({ fwd: stats({ packets: 3, tcpFlags: 0x16, synCount: 1, ackCount: 2, rstCount: 1 }) })), 'connect() scan (SYN, ACK, RST)');
  t.ok(isConnectionAttempt(row({ fwd: stats({ packets: 2, tcpFlags: 0x02 }) })), 'SYN flag without counts');
});

t.test('state persists across batches', async (t) => {
  const d = new PortScanDetector(DEFAULTS);
  t.same(run(d, probes(3, T0, 1)), []);
  const alerts = run(d, probes(2, T0 + 10 * SEC, 4));
  t.equal(alerts.length, 1);
  t.same(alerts[0].evidence.ports, [1, 2, 3, 4, 5]);
});

t.test('suppression: no second alert within suppress_secs, a new one after', async (t) => {
  const d = new PortScanDetector(DEFAULTS);
  t.equal(run(d, probes(5)).length, 1);
  t.same(run(d, probes(20, T0 + 60 * SEC, 100)), [], 'more ports a minute later: suppressed');
  t.same(run(d, probes(20, T0 + 3000 * SEC, 200)), [], 'still inside the hour');
  const later = run(d, probes(5, T0 + 3700 * SEC, 300));
  t.equal(later.length, 1, 'after suppress_secs of flow time: a new alert');
  t.same(later[0].evidence.ports, [300, 301, 302, 303, 304], 'counting started again from zero');
  t.equal(run(new PortScanDetector(DEFAULTS), probes(5, T0, 1, { dstIp: '10.0.0.3' })).length, 1, 'other pair unaffected');
});

t.test('window expiry: ports older than window_secs of flow time drop out', async (t) => {
  const d = new PortScanDetector({ ...DEFAULTS, window_secs: 60 });
  t.same(run(d, probes(3, T0, 1)), []);
  t.same(run(d, probes(2, T0 + 120 * SEC, 4)), [], '3 + 2 ports, but two minutes apart');
  const alerts = run(d, probes(3, T0 + 150 * SEC, 10));
  t.equal(alerts.length, 1, '2 + 3 within one window');
  t.same(alerts[0].evidence.ports, [4, 5, 10, 11, 12]);
  // A probe older than the window already slid past is ignored.
  const d2 = new PortScanDetector({ ...DEFAULTS, window_secs: 60 });
  run(d2, probes(1, T0 + 1000 * SEC, 1));
  t.same(run(d2, probes(4, T0, 2)), [], 'stale probes from long ago do not complete a scan');
});

t.test('a fast scan in one batch: score counts every port; evidence is capped at 100', async (t) => {
  const d = new PortScanDetector(DEFAULTS);
  const flows = probes(150).reverse(); // order within the batch does not matter
  const alerts = run(d, flows);
  t.equal(alerts.length, 1);
  const a = alerts[0];
  t.equal(a.score, 150);
  t.equal(a.threshold, 5);
  const ev = a.evidence as { ports: number[]; flow_count: number; flow_ids: number[] };
  t.equal(ev.ports.length, 100);
  t.same(ev.ports.slice(0, 3), [1, 2, 3], 'sorted');
  t.equal(ev.flow_count, 150);
  t.equal(ev.flow_ids.length, 100);
  t.equal(a.first_ts, T0 / SEC);
});

t.test('ports spread over different targets are not a port scan of one', async (t) => {
  const d = new PortScanDetector(DEFAULTS);
  t.same(run(d, Array.from({ length: 5 }, (_, i) => row({ dstIp: `10.0.1.${i}`, dstPort: 1 + i }))), []);
});

t.test('per-pair state is bounded by max_tracked_pairs (least recently used half dropped)', async (t) => {
  const d = new PortScanDetector({ ...DEFAULTS, max_tracked_pairs: 3 });
  run(d, Array.from({ length: 50 }, (_, i) => row({ srcIp: `10.9.0.${i}`, dstPort: 1 })));
  t.ok(d.trackedPairs > 0 && d.trackedPairs <= 3, `${d.trackedPairs} pairs tracked`);
});
