// Per-flow state updated per packet. Entries are pooled by the flow table: created once, reset on reuse.
import type { AppNames } from '../decode/app/app-names';

/** Welford running moments (mean and M2 in one pass; exact merging at the collector). */
export class Moments {
  n = 0;
  min = 0;
  max = 0;
  mean = 0;
  m2 = 0;

  add(x: number): void {
    const n = ++this.n;
    if (n === 1 || x < this.min) this.min = x;
    if (n === 1 || x > this.max) this.max = x;
    const delta = x - this.mean;
    this.mean += delta / n;
    this.m2 += delta * (x - this.mean);
  }

  reset(): void {
    this.n = this.min = this.max = this.mean = this.m2 = 0;
  }
}

/** Running statistics of one direction. */
export class DirectionState {
  packets = 0;
  ipBytes = 0;
  payloadBytes = 0;
  headerBytes = 0;
  l4HeaderBytes = 0;
  l4HeaderLenMin = 0;
  nonemptyPackets = 0;
  firstUs = 0;
  lastUs = 0;
  readonly len = new Moments();          // IP total lengths
  readonly payloadLen = new Moments();
  readonly iat = new Moments();          // gaps between this direction's packets, µs
  tcpFlags = 0;
  firstTcpFlags = 0;
  synCount = 0;
  finCount = 0;
  rstCount = 0;
  pshCount = 0;
  ackCount = 0;
  urgCount = 0;
  eceCount = 0;
  cwrCount = 0;
  initWindow = -1;
  // From this direction's first SYN; -1 when not seen.
  tcpMss = -1;
  tcpWscale = -1;
  tcpSackOk = false;
  tcpTimestamps = false;
  synTtl = -1;
  // Bulk transfer (CICFlowMeter semantics, its direction bug fixed): totals, and the run in progress.
  bulkCount = 0;
  bulkBytes = 0;
  bulkPackets = 0;
  bulkDurationUs = 0;
  runStartUs = 0;
  runLastUs = 0;
  runPackets = 0;
  runBytes = 0;

  /** Clears counters; `keepTcpOptions` for interim records (options describe the connection, not the interval). */
  reset(keepTcpOptions = false): void {
    this.packets = this.ipBytes = this.payloadBytes = this.headerBytes = this.l4HeaderBytes = 0;
    this.l4HeaderLenMin = this.nonemptyPackets = this.firstUs = this.lastUs = 0;
    this.len.reset();
    this.payloadLen.reset();
    this.iat.reset();
    this.tcpFlags = this.firstTcpFlags = 0;
    this.synCount = this.finCount = this.rstCount = this.pshCount = this.ackCount = this.urgCount = 0;
    this.eceCount = this.cwrCount = 0;
    this.bulkCount = this.bulkBytes = this.bulkPackets = this.bulkDurationUs = 0;
    this.runStartUs = this.runLastUs = this.runPackets = this.runBytes = 0;
    if (keepTcpOptions) return;
    this.initWindow = -1;
    this.tcpMss = this.tcpWscale = this.synTtl = -1;
    this.tcpSackOk = this.tcpTimestamps = false;
  }
}

export class FlowEntry {
  /** Table key (int32 direction-independent hash) and the next flow whose key is the same. */
  key = 0;
  chain: FlowEntry | null = null;
  flowId = 0;
  recordSeq = 0;
  ipVersion = 0;
  protocol = 0;
  vlanId = -1;
  tunnelType = 0;
  tunnelId = -1;
  // Initiator (a) and responder (b).
  readonly aAddr = new Int32Array(4);
  readonly bAddr = new Int32Array(4);
  aPort = 0;
  bPort = 0;
  /** ICMP: type << 8 | code of the first packet. */
  icmpTypeCode = 0;
  /** First and last packet of the current record (an interim record restarts the interval). */
  firstUs = 0;
  lastUs = 0;
  readonly fwd = new DirectionState();
  readonly bwd = new DirectionState();
  readonly iat = new Moments();           // gaps between consecutive packets, either direction, µs
  readonly payloadLen = new Moments();    // both directions
  readonly active = new Moments();
  readonly idle = new Moments();
  activeStartUs = 0;
  subflowCount = 0;
  tsRegressions = 0;
  icmpErrors = 0;
  // The first packets (IP length, negative from the responder; gap to the previous packet).
  readonly earlySizes: Int32Array;
  readonly earlyGapsUs: Float64Array;
  earlyCount = 0;
  app: AppNames | null = null;
  appInspections = 0;
  /** TCP teardown: FIN seen from the initiator / responder; closedUs > 0 once FIN both ways or RST. */
  finFwd = false;
  finBwd = false;
  closedUs = 0;
  /** Still referenced by the table's closing list: must not be pooled until the list lets go. */
  inClosingList = false;
  /** Place in the table's recency list of its timeout class. */
  prev: FlowEntry | null = null;
  next: FlowEntry | null = null;
  timeoutClass = 0;

  constructor(earlyPackets: number) {
    this.earlySizes = new Int32Array(earlyPackets);
    this.earlyGapsUs = new Float64Array(earlyPackets);
  }

  /** Starts a new record interval of the same flow (after an interim export). */
  resetInterval(): void {
    this.fwd.reset(true);
    this.bwd.reset(true);
    this.iat.reset();
    this.payloadLen.reset();
    this.active.reset();
    this.idle.reset();
    this.subflowCount = this.tsRegressions = this.icmpErrors = 0;
    this.firstUs = this.activeStartUs = 0;
    this.recordSeq++;
  }

  get packets(): number {
    return this.fwd.packets + this.bwd.packets;
  }
}
