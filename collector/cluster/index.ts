// Scale-out mode (cluster.enabled): the composition of bus, ingest, worker and alert fan-out. main.ts
// calls startCluster and uses what it returns; with cluster.enabled false none of this is built.
// docs/scaling.md describes the whole design.
import * as path from 'node:path';
import type { AlertHub } from '../alerts';
import type { CollectorConfig } from '../config';
import { buildDetectors, DetectRunner } from '../detect';
import type { AuditLog } from '../audit';
import { alertToJson, type Alert, type NewAlert } from '../model';
import { Registry, type Logger } from '../obs';
import { SqliteStore, type Store } from '../store';
import { AlertFeed, hubStore } from './alerts';
import { Backlog } from './backlog';
import { connectBus, type Bus } from './bus';
import { ClusterIngest } from './ingest';
import { ClusterWorker, type PartitionStore } from './worker';

export { partitionOf, splitByPartition } from './partition';
export { alertKey } from './codec';

export interface RunningCluster {
  readonly bus: Bus;
  /** the agent handlers in place of the in-process pipeline */
  readonly ingest: ClusterIngest;
  /** set when this collector runs partitions (role worker or both) */
  readonly worker: ClusterWorker | undefined;
  /** the store the AlertHub and the subscriber endpoint use: alert ids from the alert stream */
  readonly alertStore: Store;
  /** the cluster's workers append alerts to the (shared) audit chain: the hub must not append them again */
  readonly auditsAlerts: boolean;
  /** starts raising the alert stream in this hub; call once the hub has its sinks */
  followAlerts(hub: AlertHub): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterDeps {
  store: Store;
  metrics: Registry;
  log: Logger;
  /**
   * With a shared store the chain is shared too: the worker that stores an alert first appends it,
   * once for the cluster (every collector's hub sees every alert, and would append it N times).
   */
  audit?: AuditLog;
}

export async function startCluster(cfg: CollectorConfig, deps: ClusterDeps): Promise<RunningCluster> {
  const c = cfg.cluster;
  const log = deps.log.child({ module: 'cluster' });
  const bus = await connectBus(c, `goalkeeper-${cfg.collector_id}`);
  const ids = new WeakMap<NewAlert, Alert>();
  // Without partition_store_dir the collector's store is PostgreSQL, shared by the cluster (config.ts checks it).
  const openStore = (p: number): PartitionStore => c.partition_store_dir
    ? ((s) => ({ store: s, close: () => s.close() }))(new SqliteStore({ path: path.join(c.partition_store_dir, `partition-${p}.sqlite`), synchronous: cfg.store.synchronous }))
    : { store: deps.store, close: async () => undefined };
  // A shared store has one chain for the cluster, so an alert is appended where it is first stored.
  const auditsAlerts = !c.partition_store_dir && deps.audit !== undefined;
  const worker = c.role === 'ingest' ? undefined : new ClusterWorker({
    bus,
    partitions: c.partitions,
    leaseTtlMs: c.lease_ttl_ms,
    replayWindowSecs: c.replay_window_secs,
    openStore,
    newDetection: async () => {
      // Each partition has detectors of its own, so its state can be dropped and rebuilt alone.
      const dlog = log.child({ module: 'detect' });
      const set = await buildDetectors(cfg.detect, { log: dlog, metrics: new Registry() });
      return { runner: new DetectRunner(set.detectors, deps.metrics, dlog, cfg.detect.suppress_secs), close: () => set.close() };
    },
    onAlertStored: auditsAlerts ? async (a) => void (await deps.audit!.append('alert', alertToJson(a))) : undefined,
    metrics: deps.metrics,
    log,
  });
  worker?.start();
  const backlog = new Backlog(bus, c.partitions, log);
  if (c.max_backlog_msgs > 0) backlog.start();
  let feed: AlertFeed | undefined;
  return {
    bus,
    ingest: new ClusterIngest({ bus, partitions: c.partitions, maxBacklogMsgs: c.max_backlog_msgs, backlog, store: deps.store, metrics: deps.metrics, log }),
    worker,
    alertStore: hubStore(deps.store, bus, ids),
    auditsAlerts,
    followAlerts: async (hub) => {
      feed = new AlertFeed(bus, hub, ids, deps.metrics, log);
      await feed.start();
    },
    close: async () => {
      backlog.stop();
      await worker?.stop();
      await feed?.stop();
      await bus.close();
    },
  };
}
