// Live capture from a network interface through libpcap (the `pcap` package).
//
// The package's public session emits one freshly built packet object per frame; we subclass the
// session and override on_packet_ready so each frame goes straight to the handler from the
// session's one reused buffer, with no per-packet object or event.
import { endianness } from 'node:os';
import * as pcap from 'pcap';
import { AgentError, AgentErrorCode } from '../errors';
import type { FrameHandler } from './file-source';

export interface LiveSourceOptions {
  readonly interface: string;
  readonly bpfFilter: string;
  readonly snaplenBytes: number;
  readonly promiscuous: boolean;
  readonly bufferBytes: number;
  /** libpcap read timeout: how long the kernel may hold packets to deliver them in bulk. */
  readonly bufferTimeoutMs: number;
}

export interface CaptureCounters {
  /** Frames handed to us. */
  received: number;
  /** libpcap ps_recv / ps_drop / ps_ifdrop. */
  kernelReceived: number;
  kernelDropped: number;
  interfaceDropped: number;
}

const LINK_TYPES: Record<string, number> = {
  LINKTYPE_NULL: 0,
  LINKTYPE_ETHERNET: 1,
  LINKTYPE_IEEE802_11_RADIO: 127,
  LINKTYPE_RAW: 101,
  LINKTYPE_LINUX_SLL: 113,
};

interface PcapSessionLike {
  buf: Buffer;
  header: Buffer;
  link_type: string;
  close(): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
}

type PcapSessionCtor = new (
  isLive: boolean, device: string, filter: string, bufferSize: number, snapLength: number,
  outfile: string | null, monitor: boolean, bufferTimeout: number, promiscuous: boolean,
) => PcapSessionLike;

export class LiveSource {
  readonly counters: CaptureCounters = { received: 0, kernelReceived: 0, kernelDropped: 0, interfaceDropped: 0 };
  private session: PcapSessionLike | null = null;
  linkType = -1;

  constructor(private readonly opts: LiveSourceOptions, private readonly onFrame: FrameHandler) {}

  /** Opens the interface; throws AgentError INTERFACE or BPF_FILTER with libpcap's reason. */
  start(): void {
    const littleEndian = endianness() === 'LE';
    const counters = this.counters;
    const onFrame = this.onFrame;
    let linkType = -1;
    const Base = (pcap as unknown as { PcapSession: PcapSessionCtor }).PcapSession;
    class DirectSession extends Base {
      // Called by the native binding for every frame, with buf/header overwritten in place.
      on_packet_ready(): void {
        const h = this.header;
        const sec = littleEndian ? h.readUInt32LE(0) : h.readUInt32BE(0);
        const usec = littleEndian ? h.readUInt32LE(4) : h.readUInt32BE(4);
        const caplen = littleEndian ? h.readUInt32LE(8) : h.readUInt32BE(8);
        const wirelen = littleEndian ? h.readUInt32LE(12) : h.readUInt32BE(12);
        counters.received++;
        onFrame(linkType, this.buf, 0, Math.min(caplen, this.buf.length), wirelen, sec, usec);
      }
    }
    const o = this.opts;
    let session: PcapSessionLike;
    try {
      session = new DirectSession(true, o.interface, o.bpfFilter, o.bufferBytes, o.snaplenBytes, null, false,
        o.bufferTimeoutMs, o.promiscuous);
    } catch (err) {
      throw this.explain(err as Error);
    }
    linkType = LINK_TYPES[session.link_type] ?? -1;
    this.linkType = linkType;
    this.session = session;
  }

  /** Refreshes and returns the kernel's counters (cheap; call from a timer, not per packet). */
  stats(session = this.session): CaptureCounters {
    if (session) {
      const s = session.stats();
      this.counters.kernelReceived = s.ps_recv;
      this.counters.kernelDropped = s.ps_drop;
      this.counters.interfaceDropped = s.ps_ifdrop;
    }
    return this.counters;
  }

  /** Waits one buffer timeout so the kernel hands over the frames it still holds, then closes. */
  async stop(): Promise<void> {
    if (!this.session) return;
    await new Promise((r) => setTimeout(r, this.opts.bufferTimeoutMs + 50));
    const session = this.session;
    if (!session) return;
    this.session = null;
    this.stats(session);
    // The binding's close() only breaks libpcap's loop: its poll handle (which keeps Node's event
    // loop alive) is released at the next packet, which on a quiet link never comes. The CLI therefore
    // ends the process explicitly once everything is flushed (see main.ts).
    session.close();
  }

  private explain(err: Error): AgentError {
    const msg = err.message || String(err);
    if (this.opts.bpfFilter && /syntax|filter|parse|expression|unknown host|illegal/i.test(msg) && !/device/i.test(msg)) {
      return new AgentError(AgentErrorCode.BPF_FILTER, `BPF filter "${this.opts.bpfFilter}" is not valid: ${msg}`, { cause: err });
    }
    let known = '';
    try {
      known = (pcap.findalldevs() as Array<{ name: string }>).map((d) => d.name).join(', ');
    } catch {
      // listing interfaces is only a hint
    }
    return new AgentError(AgentErrorCode.INTERFACE,
      `cannot capture on interface "${this.opts.interface}": ${msg}${known ? ` (interfaces here: ${known})` : ''}`, { cause: err });
  }
}
