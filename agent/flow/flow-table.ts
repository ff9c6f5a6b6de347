// Bidirectional flows in a bounded table. Every flow leaves through onExport exactly once, with the
// reason it ended: idle, active timeout, TCP teardown, forced (shutdown, end of file) or evicted
// because the table was full. Time is packet time (µs since the epoch), so a replayed capture ends
// flows exactly as the live traffic would have; a live source also sweeps on a wall-clock timer.
import { LRUCache } from 'lru-cache';
import { EndReason, type EndReasonValue } from '../../proto';
import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, TCP_ACK, TCP_SYN, type PacketMeta,
} from '../decode/packet-meta';
import { FlowEntry } from './flow-entry';
import { flowKey, matchDirection, probeKey } from './flow-key';
import { accumulate } from './accumulate';
import { TcpEvent, tcpTeardown } from './tcp-state';

export interface FlowTableOptions {
  readonly maxFlows: number;
  readonly idleTimeoutUs: number;
  readonly activeTimeoutUs: number;
  /** How long a closed TCP flow stays to absorb the last ACK or a retransmitted FIN. */
  readonly tcpCloseGraceUs: number;
  /** Active timeouts are checked by a full scan at most this often (packet time). */
  readonly activeScanIntervalUs: number;
}

export type FlowExportHandler = (flow: FlowEntry, reason: EndReasonValue) => void;

/** Probes tried past a colliding key before the packet is counted as unplaceable. */
const MAX_PROBES = 8;
const SWEEP_INTERVAL_US = 1_000_000;

export class FlowTable {
  readonly counters = {
    flowsCreated: 0,
    flowsExported: 0,
    evictedFull: 0,
    keyCollisions: 0,
    packetsUnplaced: 0,
  };

  private readonly flows: LRUCache<number, FlowEntry>;
  private readonly pool: FlowEntry[] = [];
  private readonly closing: FlowEntry[] = [];
  private nextFlowId = 1;
  private nextSweepUs = 0;
  private nextActiveScanUs = 0;
  private lastNowUs = 0;

  constructor(private readonly opts: FlowTableOptions, private readonly onExport: FlowExportHandler) {
    this.flows = new LRUCache<number, FlowEntry>({
      max: opts.maxFlows,
      // Only evictions arrive here untreated: deletes we make ourselves export first.
      dispose: (flow, _key, reason) => {
        if (reason !== 'evict') return;
        this.counters.evictedFull++;
        this.finish(flow, EndReason.END_REASON_RESOURCES);
      },
    });
  }

  get size(): number {
    return this.flows.size;
  }

  /** Account one decoded IP packet. The caller skips frames without an IP layer. */
  add(m: PacketMeta): void {
    const nowUs = m.tsSec * 1_000_000 + m.tsUsec;
    if (nowUs >= this.nextSweepUs) this.sweep(nowUs);
    if (m.protocol === IPPROTO_ICMP || m.protocol === IPPROTO_ICMPV6) icmpPseudoPorts(m);

    let key = flowKey(m);
    let flow: FlowEntry | undefined;
    let dir = 0;
    for (let probe = 0; probe <= MAX_PROBES; probe++) {
      flow = this.flows.get(key);
      if (flow === undefined) break;
      dir = matchDirection(flow, m);
      if (dir !== 0) break;
      this.counters.keyCollisions++;
      flow = undefined;
      key = probeKey(key);
    }

    if (flow !== undefined && flow.closedUs > 0 && isNewConnection(m, dir)) {
      // Port reuse: a fresh SYN on a connection that already ended starts a new flow.
      this.remove(flow, EndReason.END_REASON_END_OF_FLOW);
      flow = undefined;
    }
    if (flow === undefined) {
      if (this.flows.has(key)) {
        this.counters.packetsUnplaced++;
        return;
      }
      flow = this.create(key, m, nowUs);
      dir = matchDirection(flow, m);
    }

    accumulate(flow, dir, m, nowUs);
    if (m.protocol === IPPROTO_TCP && m.l4Valid && flow.closedUs === 0 &&
        tcpTeardown(flow, dir, m.tcpFlags) === TcpEvent.CLOSED) {
      flow.closedUs = nowUs;
      flow.inClosingList = true;
      this.closing.push(flow);
    }
  }

  /** End flows whose time is up at `nowUs`. Called from add() once per second of packet time, and by a timer when live. */
  sweep(nowUs: number): void {
    if (nowUs < this.lastNowUs) nowUs = this.lastNowUs; // out-of-order timestamps never move time back
    this.lastNowUs = nowUs;
    this.nextSweepUs = nowUs + SWEEP_INTERVAL_US;

    // Closed TCP flows past their grace period (the list is in closing order).
    let done = 0;
    while (done < this.closing.length && this.closing[done].closedUs + this.opts.tcpCloseGraceUs <= nowUs) done++;
    if (done > 0) {
      const ended = this.closing.splice(0, done);
      for (const flow of ended) {
        flow.inClosingList = false;
        // closedUs is 0 when the flow already left by another way; only now may it be reused.
        if (flow.closedUs > 0) this.remove(flow, EndReason.END_REASON_END_OF_FLOW);
        else this.pool.push(flow);
      }
    }

    // Idle flows: the cache keeps them in least-recently-seen order, so stop at the first live one.
    const idle: FlowEntry[] = [];
    for (const flow of this.flows.rvalues()) {
      if (flow === undefined) continue;
      if (flow.lastUs + this.opts.idleTimeoutUs > nowUs) break;
      idle.push(flow);
    }
    for (const flow of idle) this.remove(flow, EndReason.END_REASON_IDLE);

    if (nowUs >= this.nextActiveScanUs) {
      this.nextActiveScanUs = nowUs + this.opts.activeScanIntervalUs;
      const old: FlowEntry[] = [];
      for (const flow of this.flows.values()) if (flow !== undefined && flow.firstUs + this.opts.activeTimeoutUs <= nowUs) old.push(flow);
      for (const flow of old) this.remove(flow, EndReason.END_REASON_ACTIVE);
    }
  }

  /** Export every flow still open (shutdown, end of a capture file). */
  flushAll(reason: EndReasonValue = EndReason.END_REASON_FORCED): void {
    for (const flow of this.closing) flow.inClosingList = false;
    this.closing.length = 0;
    const all = [...this.flows.values()];
    for (const flow of all) this.remove(flow, flow.closedUs > 0 ? EndReason.END_REASON_END_OF_FLOW : reason);
  }

  private create(key: number, m: PacketMeta, nowUs: number): FlowEntry {
    const flow = this.pool.pop() ?? new FlowEntry();
    flow.key = key;
    flow.flowId = this.nextFlowId++;
    flow.ipVersion = m.ipVersion;
    flow.protocol = m.protocol;
    flow.vlanId = m.vlanId;
    const reversed = isReply(m);
    const a = reversed ? m.dst : m.src;
    const b = reversed ? m.src : m.dst;
    flow.aAddr.set(a);
    flow.bAddr.set(b);
    flow.aPort = reversed ? m.dstPort : m.srcPort;
    flow.bPort = reversed ? m.srcPort : m.dstPort;
    flow.icmpTypeCode = (m.icmpType << 8) | m.icmpCode;
    flow.firstUs = nowUs;
    flow.lastUs = nowUs;
    flow.fwd.reset();
    flow.bwd.reset();
    flow.finFwd = flow.finBwd = false;
    flow.closedUs = 0;
    flow.inClosingList = false;
    this.counters.flowsCreated++;
    this.flows.set(key, flow);
    return flow;
  }

  private remove(flow: FlowEntry, reason: EndReasonValue): void {
    this.flows.delete(flow.key);
    this.finish(flow, reason);
  }

  private finish(flow: FlowEntry, reason: EndReasonValue): void {
    flow.closedUs = 0;
    this.counters.flowsExported++;
    this.onExport(flow, reason);
    if (!flow.inClosingList) this.pool.push(flow);
  }
}

/**
 * The first packet seen of a flow is normally the initiator's, except for answers whose question we
 * missed (capture started mid-handshake, or backscatter): a SYN-ACK or an echo reply comes from the responder.
 */
function isReply(m: PacketMeta): boolean {
  if (!m.l4Valid) return false;
  if (m.protocol === IPPROTO_TCP) return (m.tcpFlags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK);
  if (m.protocol === IPPROTO_ICMP) return m.icmpType === 0;
  if (m.protocol === IPPROTO_ICMPV6) return m.icmpType === 129;
  return false;
}

/**
 * ICMP has no ports; like Zeek we key ICMP "connections" on type and code, with the echo request and
 * its reply mapped onto each other so that a ping is one flow and an unreachable is another.
 */
function icmpPseudoPorts(m: PacketMeta): void {
  const t = m.icmpType;
  const v6 = m.protocol === IPPROTO_ICMPV6;
  const request = v6 ? 128 : 8;
  const reply = v6 ? 129 : 0;
  if (t === request) { m.srcPort = request; m.dstPort = reply; }
  else if (t === reply) { m.srcPort = reply; m.dstPort = request; }
  else { m.srcPort = t; m.dstPort = m.icmpCode; }
}

function isNewConnection(m: PacketMeta, dir: number): boolean {
  return dir !== 0 && m.protocol === IPPROTO_TCP && (m.tcpFlags & (TCP_SYN | TCP_ACK)) === TCP_SYN;
}
