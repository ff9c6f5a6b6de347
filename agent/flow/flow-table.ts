// Bidirectional flows in a bounded table. Every flow leaves through onExport with the reason it
// ended: idle, TCP teardown, forced (shutdown, end of file) or evicted because the table was full; a
// flow open longer than the active timeout is exported as an interim record and goes on.
// Time is packet time (µs since the epoch), so a replayed capture ends flows exactly as the live
// traffic would have; a live source also sweeps on a wall-clock timer.
import { EndReason, type EndReasonValue } from '../../proto';
import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_SYN, type PacketMeta,
} from '../decode/packet-meta';
import type { AppNames } from '../decode/app/app-names';
import { inspectPayload } from '../decode/app/inspect';
import { FlowEntry } from './flow-entry';
import { flowKey, matchDirection, matchTuple, tupleKey } from './flow-key';
import { accumulate } from './accumulate';
import { TcpEvent, tcpTeardown } from './tcp-state';
import { RecencyList } from './recency-list';

/** Flows are kept in one recency list per idle-timeout class, so each list is in expiry order. */
const enum TimeoutClass {
  TCP_HALF_OPEN = 0,
  TCP = 1,
  OTHER = 2,
  ICMP = 3,
}
const CLASSES = 4;

export interface FlowTableOptions {
  readonly maxFlows: number;
  /** UDP and other protocols. */
  readonly idleTimeoutUs: number;
  /** TCP once the responder has answered. */
  readonly tcpIdleTimeoutUs: number;
  /** TCP with no answer from the responder yet (bounds memory under SYN floods and scans). */
  readonly tcpHalfOpenTimeoutUs: number;
  readonly icmpIdleTimeoutUs: number;
  /** A flow open this long is exported as an interim record and carries on. */
  readonly activeTimeoutUs: number;
  /** How long a closed TCP flow stays to absorb the last ACK or a retransmitted FIN. */
  readonly tcpCloseGraceUs: number;
  /** Active timeouts are checked by a full scan at most this often (packet time). */
  readonly activeScanIntervalUs: number;
  /** How many first packets of a flow are recorded (sizes, directions, gaps). */
  readonly earlyPackets: number;
  /** Payload packets per flow handed to the application-name parsers, at most. */
  readonly appInspectPackets: number;
}

/** Called for every record: reason ACTIVE means an interim record of a flow that goes on. */
export type FlowExportHandler = (flow: FlowEntry, reason: EndReasonValue) => void;

const SWEEP_INTERVAL_US = 1_000_000;
/** Emergency mode (table nearly full): entered at 95 % of max_flows, left below 70 %; timeouts ×¼. */
const EMERGENCY_ENTER = 0.95;
const EMERGENCY_LEAVE = 0.7;
const EMERGENCY_FACTOR = 0.25;

export class FlowTable {
  readonly counters = {
    flowsCreated: 0,
    recordsExported: 0,
    interimRecords: 0,
    evictedFull: 0,
    emergencyEntered: 0,
    keyCollisions: 0,
    icmpErrorsAttributed: 0,
  };

  /** key → the first flow with that key (others follow through `chain`). */
  private readonly index = new Map<number, FlowEntry>();
  private count = 0;
  private readonly lists: RecencyList[] = Array.from({ length: CLASSES }, () => new RecencyList());
  private readonly timeouts: Float64Array;
  private readonly pool: FlowEntry[] = [];
  private readonly closing: FlowEntry[] = [];
  private readonly appScratch: AppNames = {};
  private nextFlowId = 1;
  private nextSweepUs = 0;
  private nextActiveScanUs = 0;
  private lastNowUs = 0;
  private emergency = false;

  constructor(private readonly opts: FlowTableOptions, private readonly onExport: FlowExportHandler) {
    this.timeouts = new Float64Array(CLASSES);
    this.timeouts[TimeoutClass.TCP_HALF_OPEN] = opts.tcpHalfOpenTimeoutUs;
    this.timeouts[TimeoutClass.TCP] = opts.tcpIdleTimeoutUs;
    this.timeouts[TimeoutClass.OTHER] = opts.idleTimeoutUs;
    this.timeouts[TimeoutClass.ICMP] = opts.icmpIdleTimeoutUs;
  }

  get size(): number {
    return this.count;
  }

  /** Account one decoded IP packet; `buf` is the frame buffer (for application names). */
  add(m: PacketMeta, buf: Uint8Array): void {
    const nowUs = m.tsSec * 1_000_000 + m.tsUsec;
    if (nowUs >= this.nextSweepUs) this.sweep(nowUs);
    if (m.protocol === IPPROTO_ICMP || m.protocol === IPPROTO_ICMPV6) {
      icmpPseudoPorts(m);
      if (m.icmpQuoteValid) this.attributeIcmpError(m);
    }

    const key = flowKey(m);
    let flow: FlowEntry | null = this.index.get(key) ?? null;
    let dir = 0;
    while (flow !== null) {
      dir = matchDirection(flow, m);
      if (dir !== 0) break;
      flow = flow.chain;
    }

    if (flow !== null && flow.closedUs > 0 && isNewConnection(m, dir)) {
      // Port reuse: a fresh SYN on a connection that already ended starts a new flow.
      this.remove(flow, EndReason.END_REASON_END_OF_FLOW);
      flow = null;
    }
    if (flow === null) {
      flow = this.create(key, m);
      dir = matchDirection(flow, m);
    }

    accumulate(flow, dir, m);
    const cls = timeoutClassOf(flow);
    if (cls === flow.timeoutClass) {
      this.lists[cls].touch(flow);
    } else {
      this.lists[flow.timeoutClass].unlink(flow);
      flow.timeoutClass = cls;
      this.lists[cls].push(flow);
    }
    if (m.capturedPayloadLen > 0 && flow.appInspections < this.opts.appInspectPackets) {
      flow.appInspections++;
      this.inspect(flow, m, buf);
    }
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
    this.updateEmergency();

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

    // Idle flows: each list is in last-seen order, so only its expired head is ever looked at.
    const scale = this.emergency ? EMERGENCY_FACTOR : 1;
    for (let c = 0; c < CLASSES; c++) {
      const list = this.lists[c];
      const timeout = this.timeouts[c] * scale;
      while (list.head !== null && list.head.lastUs + timeout <= nowUs) this.remove(list.head, EndReason.END_REASON_IDLE);
    }

    if (nowUs >= this.nextActiveScanUs) {
      this.nextActiveScanUs = nowUs + this.opts.activeScanIntervalUs;
      for (const list of this.lists) {
        for (let flow = list.head; flow !== null; flow = flow.next) {
          if (flow.packets === 0 || flow.firstUs + this.opts.activeTimeoutUs > nowUs) continue;
          this.counters.interimRecords++;
          this.counters.recordsExported++;
          this.onExport(flow, EndReason.END_REASON_ACTIVE);
          flow.resetInterval();
        }
      }
    }
  }

  /** Export every flow still open (shutdown, end of a capture file). */
  flushAll(reason: EndReasonValue = EndReason.END_REASON_FORCED): void {
    for (const flow of this.closing) flow.inClosingList = false;
    this.closing.length = 0;
    const all: FlowEntry[] = [];
    for (const list of this.lists) for (let flow = list.head; flow !== null; flow = flow.next) all.push(flow);
    for (const flow of all) this.remove(flow, flow.closedUs > 0 ? EndReason.END_REASON_END_OF_FLOW : reason);
  }

  private updateEmergency(): void {
    const fill = this.count / this.opts.maxFlows;
    if (!this.emergency && fill >= EMERGENCY_ENTER) {
      this.emergency = true;
      this.counters.emergencyEntered++;
    } else if (this.emergency && fill < EMERGENCY_LEAVE) {
      this.emergency = false;
    }
  }

  /** An ICMP error names the flow it reports on: count it there (the error is also a flow of its own). */
  private attributeIcmpError(m: PacketMeta): void {
    const p = m.quoteProtocol;
    if (p !== IPPROTO_TCP && p !== IPPROTO_UDP) return;
    const key = tupleKey(m.quoteSrc, m.quoteSrcPort, m.quoteDst, m.quoteDstPort, p, m.vlanId, m.ipVersion);
    for (let flow = this.index.get(key) ?? null; flow !== null; flow = flow.chain) {
      if (matchTuple(flow, m.quoteSrc, m.quoteSrcPort, m.quoteDst, m.quoteDstPort, p, m.vlanId, m.ipVersion) !== 0) {
        flow.icmpErrors++;
        this.counters.icmpErrorsAttributed++;
        return;
      }
    }
  }

  private inspect(flow: FlowEntry, m: PacketMeta, buf: Uint8Array): void {
    const scratch = this.appScratch;
    if (!inspectPayload(m.protocol, m.srcPort, m.dstPort, buf, m.payloadOffset, m.capturedPayloadLen, scratch)) return;
    // Found something (rare: a few packets per flow): move it onto the flow, keep what it had.
    const app = flow.app ?? (flow.app = {});
    for (const k of Object.keys(scratch) as Array<keyof AppNames>) {
      if (app[k] === undefined) (app as Record<string, unknown>)[k] = scratch[k];
      delete scratch[k];
    }
  }

  private create(key: number, m: PacketMeta): FlowEntry {
    const flow = this.pool.pop() ?? new FlowEntry(this.opts.earlyPackets);
    flow.key = key;
    flow.flowId = this.nextFlowId++;
    flow.recordSeq = 0;
    flow.ipVersion = m.ipVersion;
    flow.protocol = m.protocol;
    flow.vlanId = m.vlanId;
    flow.tunnelType = m.tunnelType;
    flow.tunnelId = m.tunnelId;
    const reversed = isReply(m);
    flow.aAddr.set(reversed ? m.dst : m.src);
    flow.bAddr.set(reversed ? m.src : m.dst);
    flow.aPort = reversed ? m.dstPort : m.srcPort;
    flow.bPort = reversed ? m.srcPort : m.dstPort;
    flow.icmpTypeCode = (m.icmpType << 8) | m.icmpCode;
    flow.firstUs = flow.lastUs = 0;
    flow.fwd.reset();
    flow.bwd.reset();
    flow.iat.reset();
    flow.payloadLen.reset();
    flow.active.reset();
    flow.idle.reset();
    flow.activeStartUs = flow.subflowCount = flow.tsRegressions = flow.icmpErrors = 0;
    flow.earlyCount = 0;
    flow.app = null;
    flow.appInspections = 0;
    flow.finFwd = flow.finBwd = false;
    flow.closedUs = 0;
    flow.inClosingList = false;
    if (this.count >= this.opts.maxFlows) this.evictOldest();
    this.counters.flowsCreated++;
    const head = this.index.get(key);
    if (head !== undefined) this.counters.keyCollisions++;
    flow.chain = head ?? null;
    this.index.set(key, flow);
    this.count++;
    flow.timeoutClass = timeoutClassOf(flow);
    this.lists[flow.timeoutClass].push(flow);
    return flow;
  }

  /** The table is full even after emergency timeouts: the least recently seen flow of any class gives way. */
  private evictOldest(): void {
    let oldest: FlowEntry | null = null;
    for (const list of this.lists) if (list.head && (!oldest || list.head.lastUs < oldest.lastUs)) oldest = list.head;
    if (!oldest) return;
    this.counters.evictedFull++;
    this.remove(oldest, EndReason.END_REASON_RESOURCES);
  }

  private remove(flow: FlowEntry, reason: EndReasonValue): void {
    this.unindex(flow);
    this.lists[flow.timeoutClass].unlink(flow);
    this.finish(flow, reason);
  }

  private unindex(flow: FlowEntry): void {
    const head = this.index.get(flow.key);
    if (head === flow) {
      if (flow.chain !== null) this.index.set(flow.key, flow.chain);
      else this.index.delete(flow.key);
    } else {
      let prev = head ?? null;
      while (prev !== null && prev.chain !== flow) prev = prev.chain;
      if (prev !== null) prev.chain = flow.chain;
    }
    flow.chain = null;
    this.count--;
  }

  private finish(flow: FlowEntry, reason: EndReasonValue): void {
    flow.closedUs = 0;
    // A flow whose last interim record took all its packets has nothing left to report.
    if (flow.packets > 0) {
      this.counters.recordsExported++;
      this.onExport(flow, reason);
    }
    if (!flow.inClosingList) this.pool.push(flow);
  }
}

function timeoutClassOf(flow: FlowEntry): TimeoutClass {
  switch (flow.protocol) {
    case IPPROTO_TCP: return flow.bwd.packets === 0 ? TimeoutClass.TCP_HALF_OPEN : TimeoutClass.TCP;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: return TimeoutClass.ICMP;
    default: return TimeoutClass.OTHER;
  }
}

/**
 * The first packet seen of a flow is normally the initiator's, except for answers whose question we
 * missed (capture started mid-handshake, or backscatter): a SYN-ACK or an echo reply comes from the
 * responder. A TCP flow caught midstream (no SYN) or a UDP flow whose first packet comes from a service
 * port to an ephemeral one is taken to be the service answering.
 */
function isReply(m: PacketMeta): boolean {
  if (!m.l4Valid) return false;
  if (m.protocol === IPPROTO_TCP) {
    if ((m.tcpFlags & TCP_SYN) !== 0) return (m.tcpFlags & TCP_ACK) !== 0;
    return fromServicePort(m.srcPort, m.dstPort);
  }
  if (m.protocol === IPPROTO_UDP) return fromServicePort(m.srcPort, m.dstPort);
  if (m.protocol === IPPROTO_ICMP) return m.icmpType === 0;
  if (m.protocol === IPPROTO_ICMPV6) return m.icmpType === 129;
  return false;
}

/** Service ports: the well-known range and the registered ports that servers commonly listen on. */
const SERVICE_PORTS = new Uint8Array(65536);
SERVICE_PORTS.fill(1, 1, 1024);
for (const p of [1433, 1521, 1723, 1883, 2049, 2375, 2376, 3128, 3306, 3389, 3478, 5060, 5061, 5222, 5349, 5432,
  5671, 5672, 5900, 6379, 6443, 6667, 8000, 8008, 8080, 8081, 8443, 8883, 8888, 9000, 9090, 9092, 9200, 9300,
  9418, 11211, 27017]) SERVICE_PORTS[p] = 1;

/** A service port answers a client's port, never the other way round. */
function fromServicePort(srcPort: number, dstPort: number): boolean {
  return SERVICE_PORTS[srcPort] === 1 && SERVICE_PORTS[dstPort] === 0;
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
