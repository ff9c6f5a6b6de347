// Hand-built flows and a detector harness for the detector tests.
import type { Test } from 'tap';
import type { DetectConfig } from '../../../collector/config';
import { validateConfig } from '../../../collector/config';
import type { Detector } from '../../../collector/detect';
import type { DirectionStats, FlowRow, NewAlert } from '../../../collector/model';

export const T0 = 1_700_000_000_000_000;
export const SEC = 1_000_000;

export function stats(s: Partial<DirectionStats> = {}): DirectionStats {
  return {
    packets: 0, ipBytes: 0, payloadBytes: 0, headerBytes: 0, tcpFlags: 0, synCount: 0, finCount: 0, rstCount: 0,
    pshCount: 0, ackCount: 0, urgCount: 0, initWindow: 0, lenMin: 0, lenMax: 0, lenMean: 0, lenM2: 0,
    iatCount: 0, iatMinUs: 0, iatMaxUs: 0, iatMeanUs: 0, iatM2Us: 0, ...s,
  };
}

/** The initiator's bare SYN, never answered. */
export const SYN_ONLY = { fwd: stats({ packets: 1, tcpFlags: 0x02, synCount: 1, ipBytes: 44 }), bwd: stats(), connState: 'S0' };
/** SYN answered by RST (closed port). */
export const REFUSED = { fwd: stats({ packets: 1, tcpFlags: 0x02, synCount: 1, ipBytes: 44 }), bwd: stats({ packets: 1, tcpFlags: 0x14, rstCount: 1, ackCount: 1 }), connState: 'REJ' };
/** A completed TCP connection with `client` / `server` payload bytes. */
export function established(client: number, server: number): Pick<FlowRow, 'fwd' | 'bwd' | 'connState'> {
  return {
    fwd: stats({ packets: 6, tcpFlags: 0x1b, synCount: 1, finCount: 1, ackCount: 5, payloadBytes: client, ipBytes: 240 + client, lenMean: 40 + client / 6 }),
    bwd: stats({ packets: 5, tcpFlags: 0x1b, synCount: 1, finCount: 1, ackCount: 5, payloadBytes: server, ipBytes: 200 + server, lenMean: 40 + server / 5 }),
    connState: 'SF',
  };
}

let nextId = 1;
export function flow(p: Partial<FlowRow> = {}): FlowRow {
  const firstUs = p.firstUs ?? T0;
  return {
    agentId: 'gw1', bootId: 'b', seq: 1, flowId: nextId++, recordSeq: 0, recordType: 'final', communityId: '',
    connState: 'S0', app: null, srcIp: '10.0.0.66', dstIp: '10.0.0.2', srcPort: 40000 + (nextId % 20000),
    dstPort: 80, proto: 6, vlan: null, firstUs, lastUs: firstUs + 1000, endReason: 'idle',
    fwd: SYN_ONLY.fwd, bwd: SYN_ONLY.bwd, ...p,
  };
}

/** The defaults of the `detect` config section, with overrides per detector. */
export function detectConfig(overrides: Record<string, unknown> = {}): DetectConfig {
  return validateConfig({ auth: { agents: [] }, detect: overrides }, process.cwd()).detect;
}

/** Feeds the batches in order and returns every alert. */
export function run(d: Detector, ...batches: FlowRow[][]): NewAlert[] {
  const out: NewAlert[] = [];
  for (const b of batches) d.onFlows(b, (a) => out.push(a));
  return out;
}

/** Checks the fields every alert must carry. */
export function assertAlertShape(t: Test, a: NewAlert): void {
  t.type(a.category, 'string');
  t.ok(['low', 'medium', 'high', 'critical'].includes(a.severity), 'severity');
  t.type(a.agent_id, 'string');
  t.type(a.first_ts, 'number');
  t.ok(a.last_ts >= a.first_ts, 'last_ts >= first_ts');
  t.type(a.score, 'number');
  t.type(a.threshold, 'number');
  t.ok(Array.isArray(a.evidence.flows) && (a.evidence.flows as unknown[]).length > 0, 'evidence lists the flows');
  t.type(a.evidence.flow_count, 'number');
}
