// The labels of a folder of captures (../shared/pcaps/labeled layout): MANIFEST.tsv rows, the
// reference tool's notices from groundtruth/, and which packets are attack traffic. The attack
// packets are the ones libpcap's own BPF engine (node `pcap`, offline session) selects with the
// row's label_bpf; each is then decoded by the agent's decoder to the flow it belongs to, so the
// attack FLOWS are known in the same terms the detectors see.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCaptureFile } from '../../agent/capture/file-source';
import { decodeFrame } from '../../agent/decode/decode';
import { PacketMeta } from '../../agent/decode/packet-meta';
import { addressBytes } from '../../agent/features/flow-record';
import { formatAddress } from '../../proto';

/** The part of node `pcap` used here (agent/types/pcap.d.ts declares only what the agent uses). */
interface OfflineSession {
  on(event: 'packet', fn: (p: { header: Buffer }) => void): void;
  on(event: 'complete', fn: () => void): void;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pcap = require('pcap') as { createOfflineSession(file: string, opts: { filter: string }): OfflineSession };

export interface ManifestRow {
  file: string;
  labelBpf: string;
  klass: string;
  attack: string;
  /** how many packets label_bpf matches according to the manifest */
  labelPackets: number;
}

export function readManifest(dir: string): ManifestRow[] {
  const lines = fs.readFileSync(path.join(dir, 'MANIFEST.tsv'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const head = lines[0].split('\t');
  const col = (name: string): number => {
    const i = head.indexOf(name);
    if (i < 0) throw new Error(`${dir}/MANIFEST.tsv has no column ${name}`);
    return i;
  };
  const [file, bpf, klass, attack, lp] = ['file', 'label_bpf', 'class', 'attack', 'label_bpf_packets'].map(col);
  return lines.slice(1).map((l) => {
    const c = l.split('\t');
    return { file: c[file], labelBpf: c[bpf] ?? '', klass: c[klass], attack: c[attack], labelPackets: Number(c[lp] || 0) };
  });
}

/** attack and mixed captures must alert; negative and benign ones must not. */
export function expectsAlert(klass: string): boolean {
  return klass.startsWith('attack') || klass === 'mixed';
}

/** Notices in the reference tool's baseline for this capture (groundtruth/*.notice.log), or null. */
export function referenceNotices(dir: string, file: string): number | null {
  const gt = path.join(dir, 'groundtruth');
  if (!fs.existsSync(gt)) return null;
  const stem = file.replace(/\.pcap(ng)?$/, '').replace(/^[a-z]+_/, '').replace('multiport', 'mutiport');
  for (const name of fs.readdirSync(gt)) {
    if (!name.endsWith('.notice.log')) continue;
    const ref = name.replace(/\.notice\.log$/, '').replace(/^[a-z]+_(test_)?/, '');
    if (ref === stem || stem.endsWith(ref) || ref.endsWith(stem)) {
      return fs.readFileSync(path.join(gt, name), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
    }
  }
  return null;
}

/** Direction-independent flow key of addresses, ports and protocol (ICMP: addresses only). */
export function flowKey(a: string, ap: number, b: string, bp: number, proto: number): string {
  if (proto === 1 || proto === 58) return a < b ? `${proto}|${a}|${b}` : `${proto}|${b}|${a}`;
  const x = `${a}:${ap}`;
  const y = `${b}:${bp}`;
  return x < y ? `${proto}|${x}|${y}` : `${proto}|${y}|${x}`;
}

export interface AttackTraffic {
  /** flow keys (flowKey) of every packet the BPF selects */
  flows: Set<string>;
  /** time of the first selected packet, seconds */
  firstTs: number;
  packets: number;
}

/** Packets of `file` selected by `bpf` (libpcap), as flow keys, with the first one's time. */
export async function attackTraffic(file: string, bpf: string): Promise<AttackTraffic> {
  const selected = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    let session: OfflineSession;
    try {
      session = pcap.createOfflineSession(file, { filter: bpf });
    } catch (err) {
      reject(err);
      return;
    }
    session.on('packet', (p) => {
      selected.add(`${p.header.readUInt32LE(0)}.${p.header.readUInt32LE(4)}:${p.header.readUInt32LE(8)}`);
    });
    session.on('complete', () => {
      session.close();
      resolve();
    });
  });
  const out: AttackTraffic = { flows: new Set(), firstTs: Infinity, packets: 0 };
  const meta = new PacketMeta();
  await readCaptureFile(file, (linkType, buf, start, caplen, _wirelen, sec, usec) => {
    if (!selected.has(`${sec}.${usec}:${caplen}`)) return;
    out.packets++;
    const ts = sec + usec / 1e6;
    if (ts < out.firstTs) out.firstTs = ts;
    decodeFrame(linkType, buf, start, caplen, meta);
    if (meta.ipVersion === 0) return;
    const src = formatAddress(addressBytes(meta.src, 0, meta.ipVersion));
    const dst = formatAddress(addressBytes(meta.dst, 0, meta.ipVersion));
    out.flows.add(flowKey(src, meta.srcPort, dst, meta.dstPort, meta.protocol));
  });
  return out;
}

/** Time of the first packet of `file`, seconds. */
export async function firstPacketTs(file: string): Promise<number> {
  let first = Infinity;
  await readCaptureFile(file, (_l, _b, _s, _c, _w, sec, usec) => {
    const ts = sec + usec / 1e6;
    if (ts < first) first = ts;
  });
  return first;
}
