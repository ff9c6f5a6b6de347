// Replays every capture of a labeled folder through agent and collector (replay-core.ts) and scores
// the alerts against the labels (labels.ts). One row per capture:
//   verdict     ok when an attack/mixed capture raised an alert that covers attack traffic (any alert
//               when the manifest gives no BPF), or a negative/benign capture raised none
//   first_alert_s  seconds from the first attack packet to the earliest such alert's last_ts (the
//               flow time by which its evidence was complete), never below 0
//   flow precision / recall  where label_bpf exists: a flow counts as alerted when an alert lists it
//               in its evidence, or shares the alert's source (and destination address and port,
//               where the alert names them) and starts inside the alert's time window; attack flows are those holding a
//               packet the BPF selects
import * as path from 'node:path';
import type { DetectConfig } from '../../collector/config';
import type { FlowRow, NewAlert } from '../../collector/model';
import { createLogger } from '../../collector/obs';
import { attackTraffic, expectsAlert, firstPacketTs, flowKey, readManifest, referenceNotices, type ManifestRow } from './labels';
import { replayFiles } from './replay-core';

export interface EvalRow {
  file: string;
  klass: string;
  expected: 'alert' | 'silent';
  reference: number | null;
  alerts: NewAlert[];
  ok: boolean;
  firstAlertSecs: number | null;
  precision: number | null;
  recall: number | null;
}

function covers(a: NewAlert, f: FlowRow): boolean {
  const refs = (a.evidence.flows ?? []) as Array<{ flow_id: number }>;
  if (refs.some((r) => r.flow_id === f.flowId)) return true;
  if (a.src_ip === null || f.srcIp !== a.src_ip) return false;
  if (a.dst_ip !== null && f.dstIp !== a.dst_ip) return false;
  if (a.dst_port !== null && f.dstPort !== a.dst_port) return false;
  const t = f.firstUs / 1e6;
  return t >= a.first_ts - 1e-6 && t <= a.last_ts + 1e-6;
}

export async function evaluateCapture(dir: string, row: ManifestRow, detect: DetectConfig): Promise<EvalRow> {
  const file = path.join(dir, row.file);
  const flows: FlowRow[] = [];
  const alerts: NewAlert[] = [];
  await replayFiles([file], {
    detect, log: createLogger({ level: 'silent' }),
    onAlert: (a) => void alerts.push(a),
    onFlow: (f) => void flows.push(f),
  });
  const expected = expectsAlert(row.klass) ? 'alert' : 'silent';
  const out: EvalRow = {
    file: row.file, klass: row.klass, expected, reference: referenceNotices(dir, row.file), alerts,
    ok: expected === 'silent' ? alerts.length === 0 : false, firstAlertSecs: null, precision: null, recall: null,
  };
  if (expected === 'silent') return out;
  const attack = row.labelBpf ? await attackTraffic(file, row.labelBpf) : undefined;
  const firstAttackTs = attack ? attack.firstTs : await firstPacketTs(file);
  const isAttack = (f: FlowRow): boolean => !attack || attack.flows.has(flowKey(f.srcIp, f.srcPort, f.dstIp, f.dstPort, f.proto));
  const hits = alerts.filter((a) => flows.some((f) => isAttack(f) && covers(a, f)));
  out.ok = hits.length > 0;
  if (hits.length > 0) out.firstAlertSecs = Math.max(0, Math.min(...hits.map((a) => a.last_ts)) - firstAttackTs);
  if (attack) {
    let tp = 0;
    let flagged = 0;
    let positives = 0;
    for (const f of flows) {
      const bad = isAttack(f);
      const hit = alerts.some((a) => covers(a, f));
      if (bad) positives++;
      if (hit) flagged++;
      if (bad && hit) tp++;
    }
    out.precision = flagged ? tp / flagged : null;
    out.recall = positives ? tp / positives : null;
  }
  return out;
}

export async function evaluateFolder(dir: string, detect: DetectConfig, only?: readonly string[]): Promise<EvalRow[]> {
  const rows = readManifest(dir).filter((r) => !only || only.includes(r.file));
  const out: EvalRow[] = [];
  for (const r of rows) out.push(await evaluateCapture(dir, r, detect));
  return out;
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '—' : x.toFixed(digits);
}

/** The Markdown table and the summary line `attacks_alerted=a/b negatives_silent=c/d median_first_alert_s=…`. */
export function renderTable(rows: readonly EvalRow[]): string {
  const lines = [
    '| capture | class | expected | reference notices | our alerts | verdict | first alert (s) | flow precision | flow recall |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const counts = new Map<string, number>();
    for (const a of r.alerts) counts.set(a.category, (counts.get(a.category) ?? 0) + 1);
    const ours = [...counts].map(([c, n]) => (n > 1 ? `${c}×${n}` : c)).join(', ') || 'none';
    const verdict = r.ok ? 'ok' : r.expected === 'alert' ? 'MISSED' : 'FALSE ALERT';
    lines.push(`| ${r.file} | ${r.klass} | ${r.expected} | ${r.reference ?? '—'} | ${ours} | ${verdict} | ${fmt(r.firstAlertSecs, 3)} | ${fmt(r.precision, 2)} | ${fmt(r.recall, 2)} |`);
  }
  lines.push('', summaryLine(rows));
  return lines.join('\n');
}

export function summaryLine(rows: readonly EvalRow[]): string {
  const attacks = rows.filter((r) => r.expected === 'alert');
  const negatives = rows.filter((r) => r.expected === 'silent');
  const delays = attacks.filter((r) => r.firstAlertSecs !== null).map((r) => r.firstAlertSecs as number).sort((a, b) => a - b);
  const median = delays.length === 0 ? null : delays.length % 2 ? delays[(delays.length - 1) / 2] : (delays[delays.length / 2 - 1] + delays[delays.length / 2]) / 2;
  return `attacks_alerted=${attacks.filter((r) => r.ok).length}/${attacks.length} negatives_silent=${negatives.filter((r) => r.ok).length}/${negatives.length} median_first_alert_s=${median === null ? 'none' : median.toFixed(3)}`;
}
