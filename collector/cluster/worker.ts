// Worker role: owns partitions through leases in the JetStream KV bucket STREAM_leases, and runs one
// PartitionRunner per partition it owns.
//
//   key p<N>    the lease of partition N, value = worker id. Taken with create() (fails while another
//               worker's lease lives), renewed with update(revision) every lease_ttl_ms / 4. The bucket's
//               TTL removes a lease that was not renewed, so a dead worker's partitions are free after
//               at most lease_ttl_ms and taken by a live worker on its next tick.
//   key w.<id>  the worker's heartbeat (same TTL): the count of live workers gives each one its fair
//               share, ceil(partitions / workers); a worker above it releases a partition (stops it,
//               then deletes the lease), one per tick, so a joining worker gets work.
// A worker that cannot renew a lease (another worker took it) stops that runner at once; one whose lease
// merely expired (too busy to renew in time) takes it back with create() if nobody else did. A runner
// that failed gives its partition up (lease deleted): the next tick takes it again, rebuilt.
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors';
import type { Alert } from '../model';
import type { Counter, Logger, Registry } from '../obs';
import type { Store } from '../store';
import type { Bus } from './bus';
import { PartitionRunner, type Detection, type PartitionDeps } from './partition-runner';

export interface PartitionStore {
  store: Store;
  close(): Promise<void>;
}

export interface ClusterWorkerOptions {
  bus: Bus;
  partitions: number;
  leaseTtlMs: number;
  replayWindowSecs: number;
  openStore(partition: number): PartitionStore;
  newDetection(): Promise<Detection>;
  /** see PartitionDeps.onAlertStored */
  onAlertStored?(alert: Alert): Promise<void>;
  metrics: Registry;
  log: Logger;
}

interface Owned {
  revision: number;
  runner?: PartitionRunner;
  store?: PartitionStore;
}

export class ClusterWorker {
  readonly id = randomUUID();
  private readonly owned = new Map<number, Owned>();
  private readonly counters: PartitionDeps['counters'];
  private readonly takeovers: Counter;
  private readonly lost: Counter;
  private readonly renewedLate: Counter;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: ClusterWorkerOptions) {
    const m = opts.metrics;
    this.counters = {
      flowsStored: m.counter('flows_stored_total', 'Flows stored.'),
      partsStored: m.counter('cluster_parts_stored_total', 'Batch parts this worker stored.'),
      partsDuplicate: m.counter('cluster_parts_duplicate_total', 'Batch parts the store already had (redelivered after a crash before the ack, or an agent resend older than the duplicate window).'),
      replayed: m.counter('cluster_parts_replayed_total', 'Batch parts replayed into fresh detectors on a partition takeover.'),
      alertsPublished: m.counter('cluster_alerts_published_total', 'Alerts new to the alert stream (a repeated key is dropped by JetStream).'),
      alertsStored: m.counter('cluster_alerts_stored_total', 'Alerts this worker stored in the shared store under their stream id (a repeated id or key is not stored again).'),
      failures: m.counter('cluster_worker_failures_total', 'Parts not stored (retried by redelivery) and partition runners that failed.'),
    };
    this.takeovers = m.counter('cluster_partitions_taken_total', 'Partition leases this worker took.');
    this.lost = m.counter('cluster_partitions_lost_total', 'Partition leases this worker lost or released.');
    this.renewedLate = m.counter('cluster_leases_renewed_late_total', 'Leases that expired before renewal (process too busy) and were taken back because no other worker had taken them.');
    m.gauge('cluster_partitions_owned', 'Partitions this worker owns now.', () => this.owned.size);
  }

  start(): void {
    const every = Math.max(100, Math.floor(this.opts.leaseTtlMs / 4));
    const tick = (): void => {
      if (this.ticking || this.stopped) return;
      this.ticking = this.tick()
        .catch((err) => this.opts.log.warn('lease tick failed', { err: errorMessage(err) }))
        .finally(() => (this.ticking = undefined));
    };
    this.timer = setInterval(tick, every);
    tick();
  }

  private async tick(): Promise<void> {
    const kv = this.opts.bus.leases;
    await kv.put(`w.${this.id}`, this.id);
    // Renewed together, so one slow answer does not let the others expire.
    await Promise.all([...this.owned].map(async ([p, o]) => {
      try {
        o.revision = await kv.update(`p${p}`, this.id, o.revision);
        return;
      } catch {
        // expired (this process was too busy to renew in time) or taken by another worker
      }
      try {
        // Expired but nobody took it: still ours, nothing else consumed the partition meanwhile.
        o.revision = await kv.create(`p${p}`, this.id);
        this.renewedLate.inc();
      } catch (err) {
        this.opts.log.warn('partition lease lost', { partition: p, err: errorMessage(err) });
        await this.release(p, false);
      }
    }));
    let workers = 0;
    for await (const _k of await kv.keys('w.*')) workers++;
    const share = Math.ceil(this.opts.partitions / Math.max(1, workers));
    if (this.owned.size > share) {
      await this.release(Math.max(...this.owned.keys()), true);
      return;
    }
    for (let p = 0; p < this.opts.partitions && this.owned.size < share && !this.stopped; p++) {
      if (this.owned.has(p)) continue;
      let revision: number;
      try {
        revision = await kv.create(`p${p}`, this.id);
      } catch {
        continue; // another worker holds it
      }
      await this.acquire(p, revision);
    }
  }

  private async acquire(p: number, revision: number): Promise<void> {
    const o: Owned = { revision };
    this.owned.set(p, o);
    this.takeovers.inc();
    this.opts.log.info('partition taken', { partition: p, worker: this.id });
    o.store = this.opts.openStore(p);
    const detection = await this.opts.newDetection();
    o.runner = new PartitionRunner(p, {
      bus: this.opts.bus,
      store: o.store.store,
      detection,
      replayWindowSecs: this.opts.replayWindowSecs,
      counters: this.counters,
      onFailed: () => {
        if (this.owned.get(p) === o) void this.release(p, true);
      },
      onAlertStored: this.opts.onAlertStored,
      log: this.opts.log.child({ partition: p }),
    });
  }

  private async release(p: number, deleteLease: boolean): Promise<void> {
    const o = this.owned.get(p);
    if (!o) return;
    this.owned.delete(p);
    this.lost.inc();
    await o.runner?.stop();
    await o.store?.close();
    if (deleteLease) await this.opts.bus.leases.delete(`p${p}`).catch(() => undefined);
    this.opts.log.info('partition released', { partition: p, worker: this.id });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    for (const p of [...this.owned.keys()]) await this.release(p, true);
    await this.opts.bus.leases.delete(`w.${this.id}`).catch(() => undefined);
  }
}
