// The time partitions of the flows table: one per store.postgres.partition_days, named after the UTC
// time they start (flows_p20261123t000000), created on demand before a batch that needs them and
// dropped whole once they end before the retention horizon (dropping a partition is cheap; deleting
// rows is not).
//
// Several collectors share the database: creating and dropping happen under one advisory lock, after
// re-reading the partitions that exist, so two collectors never race to create the same range. A new
// range is clipped to its neighbours, so changing partition_days never makes overlapping ranges.
// Each store caches the ranges it knows; when another collector dropped one, the insert fails with
// "no partition for row" and the store forgets its cache and tries once more (postgres-store.ts).
import type { PoolClient } from 'pg';
import type { FlowRow } from '../../model';

const DAY_SECS = 86_400;
/** Any constant: the advisory lock that serialises partition DDL between collectors. */
const PARTITION_LOCK = 0x676b_7061; // 'gkpa'

export interface PartitionRange {
  name: string;
  /** seconds since the epoch, [from, to) */
  from: number;
  to: number;
}

/** `FOR VALUES FROM ('1700000000') TO ('1700086400')` → [from, to]; undefined for anything else. */
export function parseBound(expr: string): [number, number] | undefined {
  const m = /FROM \('?(-?[\d.e+]+)'?\) TO \('?(-?[\d.e+]+)'?\)/.exec(expr);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function partitionName(fromSecs: number): string {
  const iso = new Date(fromSecs * 1000).toISOString(); // 2026-11-23T00:00:00.000Z
  return `flows_p${iso.slice(0, 19).replace(/[-:]/g, '').toLowerCase()}`;
}

/** The partitions of `flows` that exist now, oldest first. */
export async function listPartitions(client: PoolClient): Promise<PartitionRange[]> {
  const { rows } = await client.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'flows'::regclass`,
  );
  const out: PartitionRange[] = [];
  for (const r of rows) {
    const b = parseBound(r.bound);
    if (b) out.push({ name: r.name, from: b[0], to: b[1] });
  }
  return out.sort((a, b) => a.from - b.from);
}

function covering(ranges: readonly PartitionRange[], ts: number): PartitionRange | undefined {
  for (const r of ranges) if (ts >= r.from && ts < r.to) return r;
  return undefined;
}

export class FlowPartitions {
  private known: PartitionRange[] = [];
  private readonly spanSecs: number;

  constructor(partitionDays: number) {
    this.spanSecs = partitionDays * DAY_SECS;
  }

  /** Forget the cached ranges (another collector may have dropped one). */
  forget(): void {
    this.known = [];
  }

  /** Creates the partitions `flows` need and this store does not know of yet (own transaction). */
  async ensure(client: PoolClient, flows: readonly FlowRow[]): Promise<void> {
    let last: PartitionRange | undefined;
    let missing: number[] | undefined;
    for (const f of flows) {
      const ts = f.firstUs / 1e6;
      if (last && ts >= last.from && ts < last.to) continue;
      last = covering(this.known, ts);
      if (!last) (missing ??= []).push(ts);
    }
    if (!missing) return;
    const need = missing;
    await this.locked(client, async (existing) => {
      for (const ts of need) {
        if (covering(existing, ts)) continue;
        const range = this.rangeFor(ts, existing);
        await client.query(
          `CREATE TABLE ${range.name} PARTITION OF flows FOR VALUES FROM (${range.from}) TO (${range.to})`,
        );
        existing.push(range);
        existing.sort((a, b) => a.from - b.from);
      }
    });
  }

  /** Drops every partition that ends at or before `horizonSecs`; returns their names. */
  async dropBefore(client: PoolClient, horizonSecs: number): Promise<string[]> {
    const dropped: string[] = [];
    await this.locked(client, async (existing) => {
      for (const r of existing) {
        if (r.to > horizonSecs) continue;
        await client.query(`DROP TABLE ${r.name}`);
        dropped.push(r.name);
      }
      existing.splice(0, existing.length, ...existing.filter((r) => r.to > horizonSecs));
    });
    return dropped;
  }

  /** The aligned span holding `ts`, clipped so it overlaps no existing partition. */
  private rangeFor(ts: number, existing: readonly PartitionRange[]): PartitionRange {
    let from = Math.floor(ts / this.spanSecs) * this.spanSecs;
    let to = from + this.spanSecs;
    for (const r of existing) {
      if (r.to <= ts && r.to > from) from = r.to;
      if (r.from > ts && r.from < to) to = r.from;
    }
    return { name: partitionName(from), from, to };
  }

  /** Runs `work` in a transaction holding the partition lock, on a fresh list of the partitions. */
  private async locked(client: PoolClient, work: (existing: PartitionRange[]) => Promise<void>): Promise<void> {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      const existing = await listPartitions(client);
      await work(existing);
      await client.query('COMMIT');
      this.known = existing;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
