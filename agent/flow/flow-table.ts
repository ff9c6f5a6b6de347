// Bidirectional flows in a bounded table. Every flow leaves through onExport with the reason it
// ended: idle, TCP teardown, forced (shutdown, end of file) or evicted because the table was full; a
// flow open longer than the active timeout is exported as an interim record and goes on.
// Time is packet time (µs since the epoch), so a replayed capture ends flows exactly as the live
// traffic would have; a live source also sweeps on a wall-clock timer.
import { EndReason, type EndReasonValue } from '../../proto';
import {
  IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK, TCP_SYN, type PacketMeta,
} from '../decode/packet-meta';
import { moveNames, type AppNames } from '../decode/app/app-names';
import { inspectPayload } from '../decode/app/inspect';
import {
  CoreDirI, CoreF, CoreI, FlowSlots, META_CLASS_MASK, META_CLASS_SHIFT, StateBit, Tmp, type FeatureSet,
} from './flow-slots';
import { flowKey, matchDirection, matchTuple, tupleKey } from './flow-key';
import { accumulate } from './accumulate';
import { TcpEvent, tcpTeardown } from './tcp-state';
import { RecencyLists } from './recency-list';

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
  /** 'full': every statistic; 'compact': a NetFlow-sized record (flow-slots.ts). */
  readonly features: FeatureSet;
}

/**
 * Called for every record: reason ACTIVE means an interim record of a flow that goes on. The slot's
 * row is valid only during the call.
 */
export type FlowExportHandler = (slots: FlowSlots, slot: number, reason: EndReasonValue) => void;

const SWEEP_INTERVAL_US = 1_000_000;
/**
 * A flow moves to the tail of its recency list at most once per this much packet time, not on every
 * packet: the move writes the rows of the flows before and after it in the list, cache misses that
 * were ~12 % of the capture thread's per-packet time (offline meter). Idle expiry stays exact (sweep).
 */
const RELIST_US = 1_000_000;
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

  readonly slots: FlowSlots;
  /** Hash buckets: slot + 1 of the first flow whose key falls in the bucket, 0 when empty (zero pages stay untouched). */
  private readonly buckets: Int32Array;
  private readonly mask: number;
  private count = 0;
  private readonly lists: RecencyLists;
  private readonly timeouts: Float64Array;
  /** TCP flows closed by teardown, in closing order, waiting out the grace period, and when each closed. */
  private readonly closing: number[] = [];
  private readonly closingUs: number[] = [];
  private readonly appScratch: AppNames = {};
  private nextFlowId = 1;
  private nextSweepUs = 0;
  private nextActiveScanUs = 0;
  private lastNowUs = 0;
  private emergency = false;

  constructor(private readonly opts: FlowTableOptions, private readonly onExport: FlowExportHandler) {
    this.slots = new FlowSlots(opts.features, opts.earlyPackets, opts.maxFlows);
    // One bucket per one or two flows: chains stay short and the buckets cost 2–4 bytes a flow.
    let n = 1024;
    while (n * 2 < opts.maxFlows) n *= 2;
    this.buckets = new Int32Array(n);
    this.mask = n - 1;
    this.lists = new RecencyLists(this.slots, CLASSES);
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
    this.slots.tmp[Tmp.NOW_US] = nowUs; // for accumulate()
    if (nowUs >= this.nextSweepUs) this.sweep(nowUs);
    if (m.protocol === IPPROTO_ICMP || m.protocol === IPPROTO_ICMPV6) {
      icmpPseudoPorts(m);
      if (m.icmpQuoteValid) this.attributeIcmpError(m);
    }

    const key = flowKey(m);
    let i32 = this.slots.i32;
    let slot = this.buckets[key & this.mask] - 1;
    let dir = 0;
    while (slot >= 0) {
      if (i32[slot * CoreI.STRIDE + CoreI.KEY] === key) {
        dir = matchDirection(i32, slot, m);
        if (dir !== 0) break;
      }
      slot = i32[slot * CoreI.STRIDE + CoreI.CHAIN];
    }

    if (slot >= 0 && (i32[slot * CoreI.STRIDE + CoreI.META] & StateBit.CLOSED) !== 0 && isNewConnection(m, dir)) {
      // Port reuse: a fresh SYN on a connection that already ended starts a new flow.
      this.remove(slot, EndReason.END_REASON_END_OF_FLOW);
      slot = -1;
    }
    if (slot < 0) {
      slot = this.create(key, m);
      i32 = this.slots.i32;
      dir = matchDirection(i32, slot, m);
    }

    accumulate(this.slots, slot, dir, m);
    const b = slot * CoreI.STRIDE;
    const cls = timeoutClassOf(i32, slot);
    const was = classOf(i32, slot);
    const f64 = this.slots.f64, fb = slot * CoreF.STRIDE;
    if (cls !== was) {
      this.lists.unlink(was, slot);
      i32[b + CoreI.META] = (i32[b + CoreI.META] & ~META_CLASS_MASK) | (cls << META_CLASS_SHIFT);
      this.lists.push(cls, slot);
      f64[fb + CoreF.LISTED_US] = f64[fb + CoreF.LAST_US];
    } else if (f64[fb + CoreF.LAST_US] - f64[fb + CoreF.LISTED_US] >= RELIST_US) {
      this.lists.touch(cls, slot);
      f64[fb + CoreF.LISTED_US] = f64[fb + CoreF.LAST_US];
    }
    if (m.capturedPayloadLen > 0 && i32[b + CoreI.APP_INSPECTIONS] < this.opts.appInspectPackets) {
      i32[b + CoreI.APP_INSPECTIONS]++;
      this.inspect(slot, m, buf);
    }
    if (m.protocol === IPPROTO_TCP && m.l4Valid && (i32[b + CoreI.META] & StateBit.CLOSED) === 0 &&
        tcpTeardown(i32, slot, dir, m.tcpFlags) === TcpEvent.CLOSED) {
      i32[b + CoreI.META] |= StateBit.CLOSED | StateBit.IN_CLOSING_LIST;
      this.closing.push(slot);
      this.closingUs.push(nowUs);
    }
  }

  /** End flows whose time is up at `nowUs`. Called from add() once per second of packet time, and by a timer when live. */
  sweep(nowUs: number): void {
    if (nowUs < this.lastNowUs) nowUs = this.lastNowUs; // out-of-order timestamps never move time back
    this.lastNowUs = nowUs;
    this.nextSweepUs = nowUs + SWEEP_INTERVAL_US;
    this.updateEmergency();
    const s = this.slots;

    // Closed TCP flows past their grace period (the list is in closing order).
    let done = 0;
    while (done < this.closing.length && this.closingUs[done] + this.opts.tcpCloseGraceUs <= nowUs) done++;
    if (done > 0) {
      const ended = this.closing.splice(0, done);
      this.closingUs.splice(0, done);
      for (const slot of ended) {
        const at = slot * CoreI.STRIDE + CoreI.META;
        s.i32[at] &= ~StateBit.IN_CLOSING_LIST;
        // CLOSED is clear when the flow already left by another way; only now may its slot be reused.
        if ((s.i32[at] & StateBit.CLOSED) !== 0) this.remove(slot, EndReason.END_REASON_END_OF_FLOW);
        else s.release(slot);
      }
    }

    // Idle flows. Each list is in LISTED_US order and a flow's last packet is less than RELIST_US after
    // its LISTED_US, so every flow whose time is up is in the list's head part listed `timeout` ago or
    // earlier; flows there that saw a packet since are passed over (they are due within RELIST_US).
    const scale = this.emergency ? EMERGENCY_FACTOR : 1;
    for (let c = 0; c < CLASSES; c++) {
      const timeout = this.timeouts[c] * scale;
      for (let h = this.lists.head[c]; h >= 0 && s.f64[h * CoreF.STRIDE + CoreF.LISTED_US] + timeout <= nowUs;) {
        const next = s.i32[h * CoreI.STRIDE + CoreI.NEXT];
        if (s.f64[h * CoreF.STRIDE + CoreF.LAST_US] + timeout <= nowUs) this.remove(h, EndReason.END_REASON_IDLE);
        h = next;
      }
    }

    if (nowUs >= this.nextActiveScanUs) {
      this.nextActiveScanUs = nowUs + this.opts.activeScanIntervalUs;
      // Visiting every open flow's cold rows every 10 s was ~3 % of the offline meter's capture thread,
      // and mostly found nothing due.
      if (s.firstUsFloor[0] + this.opts.activeTimeoutUs <= nowUs) this.exportActive(nowUs);
    }
  }

  /** Interim records of the flows open longer than the active timeout; the first-packet floor made exact. */
  private exportActive(nowUs: number): void {
    const s = this.slots;
    let floor = Infinity;
    for (let c = 0; c < CLASSES; c++) {
      for (let slot = this.lists.head[c]; slot >= 0; slot = s.i32[slot * CoreI.STRIDE + CoreI.NEXT]) {
        if (packetsOf(s.i32, slot) === 0) continue;
        const firstUs = s.f64[slot * CoreF.STRIDE + CoreF.FIRST_US];
        if (firstUs + this.opts.activeTimeoutUs > nowUs) {
          if (firstUs < floor) floor = firstUs;
          continue;
        }
        this.counters.interimRecords++;
        this.counters.recordsExported++;
        this.onExport(s, slot, EndReason.END_REASON_ACTIVE);
        s.resetInterval(slot);
      }
    }
    s.firstUsFloor[0] = floor;
  }

  /** Export every flow still open (shutdown, end of a capture file). */
  flushAll(reason: EndReasonValue = EndReason.END_REASON_FORCED): void {
    const s = this.slots;
    for (const slot of this.closing) {
      const at = slot * CoreI.STRIDE + CoreI.META;
      s.i32[at] &= ~StateBit.IN_CLOSING_LIST;
      // Already removed (port reuse): nothing else holds the slot now.
      if ((s.i32[at] & StateBit.CLOSED) === 0) s.release(slot);
    }
    this.closing.length = this.closingUs.length = 0;
    const all: number[] = [];
    for (let c = 0; c < CLASSES; c++) {
      for (let slot = this.lists.head[c]; slot >= 0; slot = s.i32[slot * CoreI.STRIDE + CoreI.NEXT]) all.push(slot);
    }
    for (const slot of all) {
      const closed = (s.i32[slot * CoreI.STRIDE + CoreI.META] & StateBit.CLOSED) !== 0;
      this.remove(slot, closed ? EndReason.END_REASON_END_OF_FLOW : reason);
    }
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
    const i32 = this.slots.i32;
    for (let slot = this.buckets[key & this.mask] - 1; slot >= 0; slot = i32[slot * CoreI.STRIDE + CoreI.CHAIN]) {
      if (i32[slot * CoreI.STRIDE + CoreI.KEY] === key &&
          matchTuple(i32, slot, m.quoteSrc, m.quoteSrcPort, m.quoteDst, m.quoteDstPort, p, m.vlanId, m.ipVersion) !== 0) {
        i32[slot * CoreI.STRIDE + CoreI.ICMP_ERRORS]++;
        this.counters.icmpErrorsAttributed++;
        return;
      }
    }
  }

  private inspect(slot: number, m: PacketMeta, buf: Uint8Array): void {
    const scratch = this.appScratch;
    if (!inspectPayload(m.protocol, m.srcPort, m.dstPort, buf, m.payloadOffset, m.capturedPayloadLen, scratch)) return;
    // Found something (rare: a few packets per flow): move it onto the flow, keep what it had.
    moveNames(scratch, this.slots.appOf(slot));
  }

  private create(key: number, m: PacketMeta): number {
    if (this.count >= this.opts.maxFlows) this.evictOldest();
    const s = this.slots;
    const slot = s.alloc();
    const i32 = s.i32, b = slot * CoreI.STRIDE;
    s.f64[slot * CoreF.STRIDE + CoreF.FLOW_ID] = this.nextFlowId++;
    const reversed = isReply(m);
    const a = reversed ? m.dst : m.src, z = reversed ? m.src : m.dst;
    for (let w = 0; w < 4; w++) {
      i32[b + CoreI.A_ADDR + w] = a[w];
      i32[b + CoreI.B_ADDR + w] = z[w];
    }
    i32[b + CoreI.KEY] = key;
    i32[b + CoreI.VLAN] = m.vlanId;
    i32[b + CoreI.TUNNEL_ID] = m.tunnelId;
    i32[b + CoreI.PORTS] = reversed ? (m.dstPort << 16) | m.srcPort : (m.srcPort << 16) | m.dstPort;
    i32[b + CoreI.ICMP_TC] = (m.icmpType << 8) | m.icmpCode;
    const cls = m.protocol === IPPROTO_TCP ? TimeoutClass.TCP_HALF_OPEN
      : m.protocol === IPPROTO_ICMP || m.protocol === IPPROTO_ICMPV6 ? TimeoutClass.ICMP : TimeoutClass.OTHER;
    i32[b + CoreI.META] = m.protocol | (m.ipVersion << 8) | (m.tunnelType << 12) | (cls << META_CLASS_SHIFT);
    this.counters.flowsCreated++;
    const bucket = key & this.mask;
    const head = this.buckets[bucket] - 1;
    if (head >= 0) this.counters.keyCollisions++;
    i32[b + CoreI.CHAIN] = head;
    this.buckets[bucket] = slot + 1;
    this.count++;
    this.lists.push(cls, slot);
    s.f64[slot * CoreF.STRIDE + CoreF.LISTED_US] = s.tmp[Tmp.NOW_US];
    return slot;
  }

  /** The table is full even after emergency timeouts: the least recently seen flow of any class gives way. */
  private evictOldest(): void {
    const f64 = this.slots.f64;
    let oldest = -1;
    for (let c = 0; c < CLASSES; c++) {
      const h = this.lists.head[c];
      if (h >= 0 && (oldest < 0 || f64[h * CoreF.STRIDE + CoreF.LAST_US] < f64[oldest * CoreF.STRIDE + CoreF.LAST_US])) oldest = h;
    }
    if (oldest < 0) return;
    this.counters.evictedFull++;
    this.remove(oldest, EndReason.END_REASON_RESOURCES);
  }

  private remove(slot: number, reason: EndReasonValue): void {
    this.unindex(slot);
    this.lists.unlink(classOf(this.slots.i32, slot), slot);
    this.finish(slot, reason);
  }

  private unindex(slot: number): void {
    const i32 = this.slots.i32;
    const bucket = i32[slot * CoreI.STRIDE + CoreI.KEY] & this.mask;
    const next = i32[slot * CoreI.STRIDE + CoreI.CHAIN];
    let at = this.buckets[bucket] - 1;
    if (at === slot) {
      this.buckets[bucket] = next + 1;
    } else {
      while (at >= 0 && i32[at * CoreI.STRIDE + CoreI.CHAIN] !== slot) at = i32[at * CoreI.STRIDE + CoreI.CHAIN];
      if (at >= 0) i32[at * CoreI.STRIDE + CoreI.CHAIN] = next;
    }
    i32[slot * CoreI.STRIDE + CoreI.CHAIN] = -1;
    this.count--;
  }

  private finish(slot: number, reason: EndReasonValue): void {
    const s = this.slots;
    // A flow whose last interim record took all its packets has nothing left to report.
    if (packetsOf(s.i32, slot) > 0) {
      this.counters.recordsExported++;
      this.onExport(s, slot, reason);
    }
    const at = slot * CoreI.STRIDE + CoreI.META;
    s.i32[at] &= ~StateBit.CLOSED;
    if ((s.i32[at] & StateBit.IN_CLOSING_LIST) === 0) s.release(slot);
  }
}

function classOf(i32: Int32Array, slot: number): TimeoutClass {
  return (i32[slot * CoreI.STRIDE + CoreI.META] & META_CLASS_MASK) >>> META_CLASS_SHIFT;
}

function packetsOf(i32: Int32Array, slot: number): number {
  const b = slot * CoreI.STRIDE;
  return i32[b + CoreI.FWD + CoreDirI.PACKETS] + i32[b + CoreI.BWD + CoreDirI.PACKETS];
}

function timeoutClassOf(i32: Int32Array, slot: number): TimeoutClass {
  const b = slot * CoreI.STRIDE;
  switch (i32[b + CoreI.META] & 0xff) {
    case IPPROTO_TCP: return i32[b + CoreI.BWD + CoreDirI.PACKETS] === 0 ? TimeoutClass.TCP_HALF_OPEN : TimeoutClass.TCP;
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
