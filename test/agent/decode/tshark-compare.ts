// Test helper: compares our decode of a dev capture with the tshark TSV beside it
// (../shared/pcaps/dev/README.md explains the columns and their quirks).
import { readFileSync } from 'node:fs';
import { formatAddress } from '../../../proto/index';
import { DecodeEvent, IPPROTO_TCP, IPPROTO_UDP, type PacketMeta } from '../../../agent/decode/packet-meta';

export interface TsharkRow {
  frame: number;
  ipSrc: string; ipv6Src: string; ipDst: string; ipv6Dst: string;
  ipProto: string; ipv6Nxt: string;
  tcpSrc: string; tcpDst: string; udpSrc: string; udpDst: string;
}

/** First (outermost) value of a tshark cell that may list several. */
function first(cell: string | undefined): string {
  if (!cell) return '';
  const i = cell.indexOf(',');
  return i < 0 ? cell : cell.slice(0, i);
}

export function readTsv(path: string): TsharkRow[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const rows: TsharkRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const c = lines[i].split('\t');
    rows.push({
      frame: Number(c[0]),
      ipSrc: first(c[1]), ipv6Src: first(c[2]), ipDst: first(c[3]), ipv6Dst: first(c[4]),
      ipProto: first(c[5]), ipv6Nxt: first(c[6]),
      tcpSrc: first(c[7]), tcpDst: first(c[8]), udpSrc: first(c[9]), udpDst: first(c[10]),
    });
  }
  return rows;
}

/** What a test keeps of one decoded packet (the PacketMeta itself is reused). */
export interface Decoded {
  event: number; ipVersion: number; src: string; dst: string; protocol: number;
  isFragment: boolean; l4Valid: boolean; srcPort: number; dstPort: number;
}

function words(w: Int32Array, n: number): Uint8Array {
  const b = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    b[i * 4] = w[i] >>> 24; b[i * 4 + 1] = (w[i] >>> 16) & 255; b[i * 4 + 2] = (w[i] >>> 8) & 255; b[i * 4 + 3] = w[i] & 255;
  }
  return b;
}

export function snapshot(meta: PacketMeta): Decoded {
  const n = meta.ipVersion === 6 ? 4 : 1;
  return {
    event: meta.event, ipVersion: meta.ipVersion,
    src: meta.ipVersion ? formatAddress(words(meta.src, n)) : '',
    dst: meta.ipVersion ? formatAddress(words(meta.dst, n)) : '',
    protocol: meta.protocol, isFragment: meta.isFragment, l4Valid: meta.l4Valid,
    srcPort: meta.srcPort, dstPort: meta.dstPort,
  };
}

const IPV6_EXT_HEADERS = new Set([0, 43, 44, 51, 60, 135, 139, 140]);

/** Why our decode differs from tshark's row, or '' when they agree. Only for rows with an IP address. */
export function disagreement(d: Decoded, r: TsharkRow): string {
  if (d.ipVersion === 4) {
    if (d.src !== r.ipSrc || d.dst !== r.ipDst) return `v4 addresses ${d.src}>${d.dst} vs ${r.ipSrc}>${r.ipDst}|${r.ipv6Src}>${r.ipv6Dst}`;
    if (String(d.protocol) !== r.ipProto) return `proto ${d.protocol} vs ${r.ipProto}`;
  } else if (d.ipVersion === 6) {
    if (d.src !== r.ipv6Src || d.dst !== r.ipv6Dst) return `v6 addresses ${d.src}>${d.dst} vs ${r.ipv6Src}>${r.ipv6Dst}|${r.ipSrc}>${r.ipDst}`;
    const nxt = Number(r.ipv6Nxt);
    if (IPV6_EXT_HEADERS.has(nxt)) {
      // tshark prints the first next header; ours is after the extension headers.
      if (d.event === DecodeEvent.OK && IPV6_EXT_HEADERS.has(d.protocol)) return `proto ${d.protocol} still an extension header (tshark first ${nxt})`;
    } else if (d.protocol !== nxt) return `proto ${d.protocol} vs ${r.ipv6Nxt}`;
  } else {
    return `no IP (event ${d.event}) vs ${r.ipSrc || r.ipv6Src}`;
  }
  if (d.isFragment) return '';   // tshark reassembles: ports appear on other frames than ours
  let ts = '';
  let td = '';
  if (d.protocol === IPPROTO_TCP) { ts = r.tcpSrc; td = r.tcpDst; } else if (d.protocol === IPPROTO_UDP) { ts = r.udpSrc; td = r.udpDst; } else return '';
  if (ts === '' && !d.l4Valid && d.srcPort === 0 && d.dstPort === 0) return '';
  if (String(d.srcPort) !== ts || String(d.dstPort) !== td) return `ports ${d.srcPort}>${d.dstPort} vs ${ts}>${td}`;
  return '';
}
