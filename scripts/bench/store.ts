// `npm run -s bench:store [-- --batches N] [--flows-per-batch N]`: how fast each Store stores batches
// (putBatch: one transaction per batch, acked-after-commit semantics), on this machine.
//   store=sqlite   writers=1  one SqliteStore file (synchronous=FULL)
//   store=postgres writers=1  one PostgresStore on a private PostgreSQL 15 server (fsync on)
//   store=postgres writers=3  three PostgresStores (three collectors' pools) writing different agents at once
// Prints flows_per_s (wall clock) and the p50/p99 latency of one putBatch in ms. The PostgreSQL server is
// started in a temp folder (scripts/lib/postgres-server.ts) and runs on the same 2 cores as this process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import type { BatchRecord, DirectionStats, FlowRow } from '../../collector/model';
import { PostgresStore, SqliteStore, type Store } from '../../collector/store';
import { startPostgresServer } from '../lib/postgres-server';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '60' }, 'flows-per-batch': { type: 'string', default: '1000' } } });
const BATCHES = Number(values.batches);
const PER_BATCH = Number(values['flows-per-batch']);

function stats(packets: number): DirectionStats {
  return {
    packets, ipBytes: 60 * packets + 900, payloadBytes: 900, headerBytes: 60 * packets, tcpFlags: 0x1b, synCount: 1, finCount: 1,
    rstCount: 0, pshCount: 1, ackCount: packets - 1, urgCount: 0, initWindow: 64240, lenMin: 40, lenMax: 1500, lenMean: 420.5, lenM2: 12.25,
    iatCount: packets - 1, iatMinUs: 10, iatMaxUs: 90_000, iatMeanUs: 30_000.5, iatM2Us: 7.5,
  };
}

function makeBatch(agentId: string, seq: number): BatchRecord {
  const nowUs = Date.now() * 1000;
  const flows: FlowRow[] = [];
  for (let i = 0; i < PER_BATCH; i++) {
    const n = seq * PER_BATCH + i;
    flows.push({
      agentId, bootId: 'bench', seq, flowId: n, recordSeq: 0, recordType: 'final', communityId: `1:${n.toString(36)}=`, connState: 'SF',
      app: i % 3 === 0 ? { tls_sni: `host${n % 997}.example.org` } : null, srcIp: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      dstIp: `192.0.2.${n % 250}`, srcPort: 1024 + (n % 60000), dstPort: 443, proto: 6, vlan: null,
      firstUs: nowUs - 5_000_000, lastUs: nowUs, endReason: 'end_of_flow', fwd: stats(12), bwd: stats(10),
    });
  }
  return { agentId, bootId: 'bench', seq, receivedUs: nowUs, flows };
}

async function run(label: string, stores: Store[]): Promise<void> {
  // Batches are built before the clock starts: only putBatch is measured.
  const work = stores.map((_, w) => Array.from({ length: Math.ceil(BATCHES / stores.length) }, (_, i) => makeBatch(`gw${w}`, i + 1)));
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(stores.map(async (store, w) => {
    for (const b of work[w]) {
      const s = performance.now();
      if (await store.putBatch(b) !== 'stored') throw new Error('not stored');
      latencies.push(performance.now() - s);
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const flows = work.reduce((n, bs) => n + bs.length * PER_BATCH, 0);
  const pct = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1);
  console.log(`${label} flows=${flows} flows_per_s=${Math.round(flows / secs)} put_batch_p50_ms=${pct(0.5)} put_batch_p99_ms=${pct(0.99)}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gk-bench-store-'));
  const server = startPostgresServer({ fsync: true });
  try {
    const sqlite = new SqliteStore({ path: join(dir, 'bench.sqlite') });
    await run('store=sqlite writers=1', [sqlite]);
    await sqlite.close();

    const admin = new Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres' });
    await admin.connect();
    for (const writers of [1, 3]) {
      const database = `bench_${writers}`;
      await admin.query(`CREATE DATABASE ${database}`);
      const connection = { host: server.host, port: server.port, user: server.user, password: server.password, database };
      const stores = [];
      for (let i = 0; i < writers; i++) stores.push(await PostgresStore.open({ connection, poolSize: 4, partitionDays: 1, retentionDays: 0 }));
      await run(`store=postgres writers=${writers}`, stores);
      await Promise.all(stores.map((s) => s.close()));
    }
    await admin.end();
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
