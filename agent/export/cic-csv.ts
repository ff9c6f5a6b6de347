// CICFlowMeter-compatible CSV: the column names and order of CICFlowMeter's FlowFeature.java
// (features 1–84; #62, a duplicate of #41, is dropped, and so is the Label column), computed from our
// records with CICFlowMeter's documented bugs fixed. docs/features.md lists each fix.
// Packet lengths are transport payload lengths, as in CICFlowMeter; std is the sample std; a value that
// cannot be computed (a rate over a zero duration, a ratio over zero packets) is an empty cell.
import { formatAddress, type EndReasonValue, type IDirectionStats, type IFlowRecord, type IStats } from '../../proto';
import { toFlowRecord } from '../features/flow-record';
import type { FlowRows } from '../flow/flow-slots';
import type { LineBuffer } from './line-buffer';
import { sampleStd } from './flow-json';

export const CIC_COLUMNS = [
  'Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp', 'Flow Duration',
  'Total Fwd Packet', 'Total Bwd packets', 'Total Length of Fwd Packet', 'Total Length of Bwd Packet',
  'Fwd Packet Length Max', 'Fwd Packet Length Min', 'Fwd Packet Length Mean', 'Fwd Packet Length Std',
  'Bwd Packet Length Max', 'Bwd Packet Length Min', 'Bwd Packet Length Mean', 'Bwd Packet Length Std',
  'Flow Bytes/s', 'Flow Packets/s', 'Flow IAT Mean', 'Flow IAT Std', 'Flow IAT Max', 'Flow IAT Min',
  'Fwd IAT Total', 'Fwd IAT Mean', 'Fwd IAT Std', 'Fwd IAT Max', 'Fwd IAT Min',
  'Bwd IAT Total', 'Bwd IAT Mean', 'Bwd IAT Std', 'Bwd IAT Max', 'Bwd IAT Min',
  'Fwd PSH Flags', 'Bwd PSH Flags', 'Fwd URG Flags', 'Bwd URG Flags', 'Fwd Header Length', 'Bwd Header Length',
  'Fwd Packets/s', 'Bwd Packets/s', 'Packet Length Min', 'Packet Length Max', 'Packet Length Mean',
  'Packet Length Std', 'Packet Length Variance', 'FIN Flag Count', 'SYN Flag Count', 'RST Flag Count',
  'PSH Flag Count', 'ACK Flag Count', 'URG Flag Count', 'CWR Flag Count', 'ECE Flag Count', 'Down/Up Ratio',
  'Average Packet Size', 'Fwd Segment Size Avg', 'Bwd Segment Size Avg', 'Fwd Bytes/Bulk Avg',
  'Fwd Packet/Bulk Avg', 'Fwd Bulk Rate Avg', 'Bwd Bytes/Bulk Avg', 'Bwd Packet/Bulk Avg', 'Bwd Bulk Rate Avg',
  'Subflow Fwd Packets', 'Subflow Fwd Bytes', 'Subflow Bwd Packets', 'Subflow Bwd Bytes', 'FWD Init Win Bytes',
  'Bwd Init Win Bytes', 'Fwd Act Data Pkts', 'Fwd Seg Size Min', 'Active Mean', 'Active Std', 'Active Max',
  'Active Min', 'Idle Mean', 'Idle Std', 'Idle Max', 'Idle Min',
] as const;

export const CIC_HEADER = CIC_COLUMNS.join(',');

type Cell = number | string | null;

function div(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

/** max, min, mean, std of a Stats message (0s when empty, as CICFlowMeter prints them). */
function mmms(s: IStats | null | undefined): Cell[] {
  const n = Number(s?.n ?? 0);
  if (n === 0) return [0, 0, 0, 0];
  return [s!.max ?? 0, s!.min ?? 0, s!.mean ?? 0, sampleStd(s!.m2 ?? 0, n)];
}

function iat(d: IDirectionStats): Cell[] {
  const n = Number(d.iatCount ?? 0);
  if (n === 0) return [0, 0, 0, 0, 0];
  const total = Number(d.lastUs ?? 0) - Number(d.firstUs ?? 0);
  return [total, d.iatMeanUs ?? 0, sampleStd(d.iatM2Us ?? 0, n), Number(d.iatMaxUs ?? 0), Number(d.iatMinUs ?? 0)];
}

function bulk(d: IDirectionStats): Cell[] {
  const count = Number(d.bulkCount ?? 0);
  const seconds = Number(d.bulkDurationUs ?? 0) / 1e6;
  return [div(Number(d.bulkBytes ?? 0), count) ?? 0, div(Number(d.bulkPackets ?? 0), count) ?? 0,
    div(Number(d.bulkBytes ?? 0), seconds) ?? 0];
}

function cell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function flowToCicRow(r: IFlowRecord): string {
  const f = r.fwd ?? {};
  const b = r.bwd ?? {};
  const src = formatAddress(r.srcAddr ?? new Uint8Array(0));
  const dst = formatAddress(r.dstAddr ?? new Uint8Array(0));
  const durationUs = Number(r.lastUs ?? 0) - Number(r.firstUs ?? 0);
  const seconds = durationUs / 1e6;
  const fp = Number(f.packets ?? 0);
  const bp = Number(b.packets ?? 0);
  const fBytes = Number(f.payloadBytes ?? 0);
  const bBytes = Number(b.payloadBytes ?? 0);
  const fl = mmms(f.payloadLen);
  const bl = mmms(b.payloadLen);
  const all = mmms(r.payloadLen);
  const flowIat = mmms(r.iatUs);
  const active = mmms(r.activeUs);
  const idle = mmms(r.idleUs);
  const allStd = all[3] as number;
  const subflows = r.subflowCount || 1;
  const tcp = r.protocol === 6;
  const row: Cell[] = [
    `${src}-${dst}-${r.srcPort}-${r.dstPort}-${r.protocol}`, src, r.srcPort ?? 0, dst, r.dstPort ?? 0, r.protocol ?? 0,
    new Date(Number(r.firstUs ?? 0) / 1000).toISOString().replace('Z', `${String(Number(r.firstUs ?? 0) % 1000).padStart(3, '0')}Z`),
    durationUs, fp, bp, fBytes, bBytes,
    ...fl, ...bl,
    div(fBytes + bBytes, seconds), div(fp + bp, seconds),
    flowIat[2], flowIat[3], flowIat[0], flowIat[1],
    ...iat(f), ...iat(b),
    f.pshCount ?? 0, b.pshCount ?? 0, f.urgCount ?? 0, b.urgCount ?? 0,
    Number(f.l4HeaderBytes ?? 0), Number(b.l4HeaderBytes ?? 0),
    div(fp, seconds), div(bp, seconds),
    all[1], all[0], all[2], allStd, allStd * allStd,
    (f.finCount ?? 0) + (b.finCount ?? 0), (f.synCount ?? 0) + (b.synCount ?? 0), (f.rstCount ?? 0) + (b.rstCount ?? 0),
    (f.pshCount ?? 0) + (b.pshCount ?? 0), (f.ackCount ?? 0) + (b.ackCount ?? 0), (f.urgCount ?? 0) + (b.urgCount ?? 0),
    (f.cwrCount ?? 0) + (b.cwrCount ?? 0), (f.eceCount ?? 0) + (b.eceCount ?? 0),
    div(bp, fp), all[2],
    div(fBytes, fp) ?? 0, div(bBytes, bp) ?? 0,
    ...bulk(f), ...bulk(b),
    fp / subflows, fBytes / subflows, bp / subflows, bBytes / subflows,
    tcp && fp > 0 ? f.initWindow ?? 0 : null, tcp && bp > 0 ? b.initWindow ?? 0 : null,
    Number(f.nonemptyPackets ?? 0), fp > 0 ? f.l4HeaderLenMin ?? 0 : null,
    active[2], active[3], active[0], active[1],
    idle[2], idle[3], idle[0], idle[1],
  ];
  return row.map(cell).join(',');
}

/** The CSV row of the flow in `slot` of `s` (through its wire record: CSV is not the offline default). */
export function flowCicRow(s: FlowRows, slot: number, reason: EndReasonValue): string {
  return flowToCicRow(toFlowRecord(s, slot, reason));
}

/** Appends the CSV row of the flow (RecordWriter's form of a formatter). */
export function writeCicRow(o: LineBuffer, s: FlowRows, slot: number, reason: EndReasonValue): void {
  o.utf8(flowCicRow(s, slot, reason));
}
