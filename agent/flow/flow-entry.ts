// Per-flow state updated per packet. Entries are pooled by the flow table: created once, reset on reuse.

/** Running statistics of one direction (Welford's one-pass mean and M2). */
export class DirectionState {
  packets = 0;
  ipBytes = 0;
  payloadBytes = 0;
  headerBytes = 0;
  tcpFlags = 0;
  synCount = 0;
  finCount = 0;
  rstCount = 0;
  pshCount = 0;
  ackCount = 0;
  urgCount = 0;
  initWindow = -1;
  lenMin = 0;
  lenMax = 0;
  lenMean = 0;
  lenM2 = 0;
  lastUs = 0;
  iatCount = 0;
  iatMinUs = 0;
  iatMaxUs = 0;
  iatMeanUs = 0;
  iatM2Us = 0;

  reset(): void {
    this.packets = this.ipBytes = this.payloadBytes = this.headerBytes = 0;
    this.tcpFlags = this.synCount = this.finCount = this.rstCount = this.pshCount = this.ackCount = this.urgCount = 0;
    this.initWindow = -1;
    this.lenMin = this.lenMax = this.lenMean = this.lenM2 = 0;
    this.lastUs = 0;
    this.iatCount = this.iatMinUs = this.iatMaxUs = this.iatMeanUs = this.iatM2Us = 0;
  }
}

export class FlowEntry {
  /** Table key (53-bit direction-independent hash, possibly probed on collision). */
  key = 0;
  flowId = 0;
  ipVersion = 0;
  protocol = 0;
  vlanId = -1;
  // Initiator (a) and responder (b).
  readonly aAddr = new Int32Array(4);
  readonly bAddr = new Int32Array(4);
  aPort = 0;
  bPort = 0;
  /** ICMP: type << 8 | code of the first packet. */
  icmpTypeCode = 0;
  firstUs = 0;
  lastUs = 0;
  readonly fwd = new DirectionState();
  readonly bwd = new DirectionState();
  /** TCP teardown: FIN seen from the initiator / responder; closedUs > 0 once FIN both ways or RST. */
  finFwd = false;
  finBwd = false;
  closedUs = 0;
  /** Still referenced by the table's closing list: must not be pooled until the list lets go. */
  inClosingList = false;
}
