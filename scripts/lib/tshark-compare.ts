// Agreement between our decoder and Wireshark on the dev captures: every capture X in the folder is
// read with readCaptureFile + decodeFrame and compared, packet by packet, with X.tshark.tsv beside it
// (../shared/pcaps/dev/README.md explains the columns and their quirks). Shared by
// scripts/decode-agreement.ts and test/agent/decode/tshark-agreement.test.ts.
//
// What is compared, for every packet where tshark shows an IP address:
//  - the address pair and the protocol (IPv6: the final next header unless tshark's is an extension
//    header), then the TCP/UDP ports unless the packet is a fragment (tshark reassembles);
//  - which of tshark's comma-separated values: tshark lists every occurrence, outermost first. Our
//    record is the INNER packet of a tunnel, so for a packet we decoded as tunnelled the LAST value is
//    ours (the one before it when the inner packet is itself an ICMP error, whose quote comes last);
//    otherwise the FIRST;
//  - for ICMP/ICMPv6 errors whose quoted datagram we read: its addresses (the value after ours),
//    protocol and ports too.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCaptureFile } from '../../agent/capture/file-source';
import { decodeFrame } from '../../agent/decode/decode';
import { MAX_TUNNEL_DEPTH } from '../../agent/decode/tunnel';
import { DecodeEvent, IPPROTO_TCP, IPPROTO_UDP, PacketMeta } from '../../agent/decode/packet-meta';
import { addressBytes } from '../../agent/features/flow-record';
import { formatAddress } from '../../proto';
import { AgentError, AgentErrorCode } from '../../agent/errors';

/** One TSV row; every cell split at its commas (outermost first), empty cell → []. */
export interface TsharkRow {
  frame: number;
  ipSrc: string[]; ipv6Src: string[]; ipDst: string[]; ipv6Dst: string[];
  ipProto: string[]; ipv6Nxt: string[];
  tcpSrc: string[]; tcpDst: string[]; udpSrc: string[]; udpDst: string[];
}

function cells(cell: string | undefined): string[] {
  return cell ? cell.split(',') : [];
}

export function readTsv(path: string): TsharkRow[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const rows: TsharkRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const c = lines[i].split('\t');
    rows.push({
      frame: Number(c[0]),
      ipSrc: cells(c[1]), ipv6Src: cells(c[2]), ipDst: cells(c[3]), ipv6Dst: cells(c[4]),
      ipProto: cells(c[5]), ipv6Nxt: cells(c[6]),
      tcpSrc: cells(c[7]), tcpDst: cells(c[8]), udpSrc: cells(c[9]), udpDst: cells(c[10]),
    });
  }
  return rows;
}

/** What is kept of one decoded packet (the PacketMeta itself is reused). */
export interface Decoded {
  event: number; ipVersion: number; src: string; dst: string; protocol: number;
  isFragment: boolean; l4Valid: boolean; srcPort: number; dstPort: number;
  tunnelType: number; icmpQuoteValid: boolean; quoteSrc: string; quoteDst: string;
  quoteProtocol: number; quoteSrcPort: number; quoteDstPort: number;
  /** Tunnels entered (0 when none). */
  tunnelDepth: number;
}

/** Text form of an address as tshark prints it (IPv6 per RFC 5952). */
export function formatWords(w: Int32Array, version: number): string {
  return formatAddress(addressBytes(w, 0, version));
}

export function snapshot(meta: PacketMeta): Decoded {
  const v = meta.ipVersion;
  return {
    event: meta.event, ipVersion: v,
    src: v ? formatWords(meta.src, v) : '', dst: v ? formatWords(meta.dst, v) : '',
    protocol: meta.protocol, isFragment: meta.isFragment, l4Valid: meta.l4Valid,
    srcPort: meta.srcPort, dstPort: meta.dstPort, tunnelType: meta.tunnelType,
    icmpQuoteValid: meta.icmpQuoteValid,
    quoteSrc: meta.icmpQuoteValid ? formatWords(meta.quoteSrc, v) : '',
    quoteDst: meta.icmpQuoteValid ? formatWords(meta.quoteDst, v) : '',
    quoteProtocol: meta.quoteProtocol, quoteSrcPort: meta.quoteSrcPort, quoteDstPort: meta.quoteDstPort,
    tunnelDepth: meta.tunnelType === 0 ? 0 : -1,
  };
}

/** How many tunnels decodeFrame entered for this frame: the fewest that give the same record. */
function tunnelDepth(linkType: number, buf: Uint8Array, start: number, caplen: number, d: Decoded, scratch: PacketMeta): number {
  for (let k = 1; k < MAX_TUNNEL_DEPTH; k++) {
    decodeFrame(linkType, buf, start, caplen, scratch, k);
    const s = snapshot(scratch);
    if (s.src === d.src && s.dst === d.dst && s.srcPort === d.srcPort && s.dstPort === d.dstPort) return k;
  }
  return MAX_TUNNEL_DEPTH;
}

const IPV6_EXT_HEADERS = new Set([0, 43, 44, 51, 60, 135, 139, 140]);

/** Why a packet disagrees: a category for grouping, and the detail. */
export interface Difference { category: string; detail: string }

/** Value i of a list, counted from the end when i < 0; '' when absent. */
function at(list: string[], i: number): string {
  const k = i < 0 ? list.length + i : i;
  return k >= 0 && k < list.length ? list[k] : '';
}

function protocolDiffers(version: number, ours: number, theirs: string, event: number): string {
  if (version === 4) return String(ours) !== theirs ? `protocol ${ours} vs ${theirs}` : '';
  const nxt = Number(theirs);
  if (IPV6_EXT_HEADERS.has(nxt)) {
    // tshark prints the fixed header's next header; ours is the one after the extension headers.
    return event === DecodeEvent.OK && IPV6_EXT_HEADERS.has(ours) ? `protocol ${ours} still an extension header (tshark ${nxt})` : '';
  }
  return ours !== nxt ? `protocol ${ours} vs ${theirs}` : '';
}

/** Why our decode differs from tshark's row, or null when they agree. Only for rows with an IP address. */
export function disagreement(d: Decoded, r: TsharkRow): Difference | null {
  if (d.ipVersion === 0) {
    const category = d.event === DecodeEvent.UNSUPPORTED_LINKTYPE ? 'unsupported-link-type' : 'not-ip';
    return { category, detail: `no IP (event ${d.event}) vs ${r.ipSrc[0] ?? r.ipv6Src[0]}` };
  }
  const v4 = d.ipVersion === 4;
  const srcs = v4 ? r.ipSrc : r.ipv6Src;
  const dsts = v4 ? r.ipDst : r.ipv6Dst;
  const protos = v4 ? r.ipProto : r.ipv6Nxt;
  const quoteLast = d.icmpQuoteValid && d.tunnelType !== 0;
  // Index of our packet in tshark's lists, and of the datagram an ICMP error quotes.
  const ours = d.tunnelType === 0 ? 0 : quoteLast ? -2 : -1;
  const quote = d.tunnelType === 0 ? 1 : -1;
  const tunnel = d.tunnelType !== 0 ? ' (tunnelled)' : '';

  if (d.src !== at(srcs, ours) || d.dst !== at(dsts, ours)) {
    return { category: 'addresses', detail: `${d.src}>${d.dst} vs ${srcs.join(',')}>${dsts.join(',')}${tunnel}` };
  }
  const proto = protocolDiffers(d.ipVersion, d.protocol, at(protos, ours), d.event);
  if (proto) return { category: 'protocol', detail: proto + tunnel };

  if (d.icmpQuoteValid) {
    if (d.quoteSrc !== at(srcs, quote) || d.quoteDst !== at(dsts, quote)) {
      return { category: 'icmp-quote', detail: `quoted ${d.quoteSrc}>${d.quoteDst} vs ${srcs.join(',')}>${dsts.join(',')}` };
    }
    const qp = protocolDiffers(d.ipVersion, d.quoteProtocol, at(protos, quote), DecodeEvent.OK);
    if (qp) return { category: 'icmp-quote', detail: `quoted ${qp}` };
    if (d.quoteSrcPort !== 0 || d.quoteDstPort !== 0) {
      const [qs, qd] = d.quoteProtocol === IPPROTO_TCP ? [r.tcpSrc, r.tcpDst] : [r.udpSrc, r.udpDst];
      if (String(d.quoteSrcPort) !== at(qs, -1) || String(d.quoteDstPort) !== at(qd, -1)) {
        return { category: 'icmp-quote', detail: `quoted ports ${d.quoteSrcPort}>${d.quoteDstPort} vs ${qs.join(',')}>${qd.join(',')}` };
      }
    }
  }

  if (d.isFragment) return null;   // tshark reassembles: ports appear on other frames than ours
  let ts: string[];
  let td: string[];
  if (d.protocol === IPPROTO_TCP) { ts = r.tcpSrc; td = r.tcpDst; } else if (d.protocol === IPPROTO_UDP) { ts = r.udpSrc; td = r.udpDst; } else return null;
  const portAt = d.tunnelType === 0 ? 0 : -1;
  if (ts.length === 0 && !d.l4Valid && d.srcPort === 0 && d.dstPort === 0) return null;
  if (String(d.srcPort) !== at(ts, portAt) || String(d.dstPort) !== at(td, portAt)) {
    return { category: 'ports', detail: `${d.srcPort}>${d.dstPort} vs ${ts.join(',')}>${td.join(',')}${tunnel}` };
  }
  return null;
}

interface ManifestRow { format: string; tsharkExit: string; nonPacketFrames: Set<number> }

function readManifest(dir: string): Map<string, ManifestRow> {
  const lines = readFileSync(join(dir, 'MANIFEST.tsv'), 'utf8').split('\n');
  const cols = lines[0].split('\t');
  const col = (name: string) => cols.indexOf(name);
  const out = new Map<string, ManifestRow>();
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const c = line.split('\t');
    const np = c[col('tshark_nonpacket_frames')];
    out.set(c[col('file')], {
      format: c[col('format')],
      tsharkExit: c[col('tshark_exit')],
      nonPacketFrames: new Set(np ? np.split(',').map(Number) : []),
    });
  }
  return out;
}

export interface FileAgreement {
  file: string;
  /** Frames read by us. */
  packets: number;
  /** Packets where tshark shows an IP address (and we read the frame). */
  compared: number;
  agreed: number;
  /** Compared packets we decoded as tunnelled, and ICMP errors whose quote we read. */
  tunnelled: number;
  quoted: number;
  differences: Array<{ frame: number } & Difference>;
  /** Why the file was not compared, when it was not (a clean refusal of a file tshark refuses too). */
  skipped?: string;
}

export interface AgreementReport {
  files: FileAgreement[];
  packets: number;
  compared: number;
  agreed: number;
  disagreements: number;
  /** Throws from decodeFrame, and read errors other than a clean refusal of a file tshark refuses. */
  exceptions: number;
  exceptionMessages: string[];
  /** Files tshark read fully where our frame count differs. */
  countMismatches: string[];
  /** Packets we decoded as IP (OK or TRUNCATED_L4) where tshark shows no address. */
  extraIp: number;
  /** Compared packets whose TCP/UDP ports were compared too. */
  withPorts: number;
  /**
   * Agreeing packets where tshark shows more IP headers than we read (ours, the carriers of the tunnels
   * we entered, a quote): a tunnel tshark decodes and we do not. Not a disagreement (our record is the
   * carrier, which tshark agrees about), listed for the docs.
   */
  deeper: Array<{ file: string; frame: number; detail: string }>;
}

/** IP headers we read: ours, one per tunnel entered, one for a quote. */
function ipLayers(d: Decoded): number {
  return 1 + d.tunnelDepth + (d.icmpQuoteValid ? 1 : 0);
}

/** Runs the comparison over every capture in `dir` that has a .tshark.tsv and a MANIFEST.tsv row. */
export async function compareWithTshark(dir: string): Promise<AgreementReport> {
  const manifest = readManifest(dir);
  const names = readdirSync(dir).filter((f) => f.endsWith('.tshark.tsv')).map((f) => f.slice(0, -'.tshark.tsv'.length)).sort();
  const report: AgreementReport = {
    files: [], packets: 0, compared: 0, agreed: 0, disagreements: 0, exceptions: 0, exceptionMessages: [],
    countMismatches: [], extraIp: 0, withPorts: 0, deeper: [],
  };
  const meta = new PacketMeta();
  const scratch = new PacketMeta();
  const exception = (message: string) => { report.exceptions++; report.exceptionMessages.push(message); };

  for (const file of names) {
    const m = manifest.get(file);
    const fa: FileAgreement = { file, packets: 0, compared: 0, agreed: 0, tunnelled: 0, quoted: 0, differences: [] };
    report.files.push(fa);
    if (!m) { exception(`${file}: not in MANIFEST.tsv`); continue; }
    const decoded: Decoded[] = [];
    try {
      await readCaptureFile(join(dir, file), (linkType, buf, start, caplen) => {
        try {
          decodeFrame(linkType, buf, start, caplen, meta);
        } catch (err) {
          exception(`${file} frame ${decoded.length + 1}: decodeFrame threw ${String(err)}`);
          meta.reset();
        }
        const d = snapshot(meta);
        if (d.tunnelType !== 0) d.tunnelDepth = tunnelDepth(linkType, buf, start, caplen, d, scratch);
        decoded.push(d);
      });
    } catch (err) {
      const allowed = (m.tsharkExit === '2' || m.format === 'pcap-modified') &&
        err instanceof AgentError && err.code === AgentErrorCode.FILE_FORMAT;
      if (allowed) fa.skipped = `refused (${(err as Error).message.split(': ').slice(1).join(': ')})`;
      else exception(`${file}: ${String(err)}`);
      continue;
    }
    fa.packets = decoded.length;
    const rows = readTsv(join(dir, file + '.tshark.tsv')).filter((r) => !m.nonPacketFrames.has(r.frame));
    if (m.tsharkExit === '0' && decoded.length !== rows.length) {
      report.countMismatches.push(`${file}: ${decoded.length} frames, tshark ${rows.length}`);
    }
    for (let i = 0; i < rows.length && i < decoded.length; i++) {
      const r = rows[i];
      const d = decoded[i];
      if (r.ipSrc.length === 0 && r.ipv6Src.length === 0) {
        if (d.ipVersion !== 0 && (d.event === DecodeEvent.OK || d.event === DecodeEvent.TRUNCATED_L4)) report.extraIp++;
        continue;
      }
      fa.compared++;
      if (d.tunnelType !== 0) fa.tunnelled++;
      if (d.icmpQuoteValid) fa.quoted++;
      if (d.l4Valid && !d.isFragment && (d.protocol === IPPROTO_TCP || d.protocol === IPPROTO_UDP)) report.withPorts++;
      const why = disagreement(d, r);
      if (why) {
        fa.differences.push({ frame: r.frame, ...why });
        continue;
      }
      fa.agreed++;
      const layers = r.ipSrc.length + r.ipv6Src.length;
      if (layers > ipLayers(d)) {
        report.deeper.push({ file, frame: r.frame, detail: `tshark ${[...r.ipSrc, ...r.ipv6Src].join(',')} (protocols ${[...r.ipProto, ...r.ipv6Nxt].join(',')}); ours ${d.src}${d.tunnelType ? ' tunnelled' : ''}` });
      }
    }
    report.packets += fa.packets;
    report.compared += fa.compared;
    report.agreed += fa.agreed;
    report.disagreements += fa.compared - fa.agreed;
  }
  return report;
}
