// What the exactly-once tests compare: the flows an agent exported (its --jsonl output) against the
// rows the collector stored, by count and by a digest over every record's identity and counts.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

const FIELDS = ['flow_id', 'record_seq', 'src_ip', 'dst_ip', 'src_port', 'dst_port', 'proto', 'fwd_packets', 'bwd_packets', 'fwd_ip_bytes', 'bwd_ip_bytes'] as const;

export function flowKey(f: Record<string, unknown>): string {
  return FIELDS.map((k) => String(f[k])).join('|');
}

export interface FlowSet {
  count: number;
  /** sha256 over the sorted keys: equal digests mean the same records, each once */
  digest: string;
  keys: string[];
}

function flowSet(keys: string[]): FlowSet {
  keys.sort();
  const h = createHash('sha256');
  for (const k of keys) h.update(k).update('\n');
  return { count: keys.length, digest: h.digest('hex'), keys };
}

export function exportedFlows(jsonlPath: string): FlowSet {
  const text = readFileSync(jsonlPath, 'utf8').trim();
  return flowSet(text ? text.split('\n').map((l) => flowKey(JSON.parse(l))) : []);
}

/** Stored flows, optionally of one boot only. */
export function storedFlows(dbPath: string, bootId?: string): FlowSet {
  const db = new Database(dbPath, { readonly: true });
  try {
    const sql = `SELECT ${FIELDS.join(', ')} FROM flows${bootId ? ' WHERE boot_id = ?' : ''}`;
    const rows = (bootId ? db.prepare(sql).all(bootId) : db.prepare(sql).all()) as Array<Record<string, unknown>>;
    return flowSet(rows.map(flowKey));
  } finally {
    db.close();
  }
}

/** Stored flow count, 0 while the file is not there yet or locked. */
export function storedCount(dbPath: string): number {
  try {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

/** One series of the collector's /metrics, 0 when absent. */
export async function collectorMetric(host: string, port: number, series: string): Promise<number> {
  const body = await (await fetch(`http://${host}:${port}/metrics`)).text();
  for (const line of body.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
