// The connection to NATS JetStream and the three things the cluster keeps there, created if missing
// (idempotent, so every collector may start first):
//   stream STREAM          subjects STREAM.p.<partition>: flow batch parts; duplicate window 2 min
//                          (a resend with the same `agent.boot.seq.part` id inside it is dropped)
//   stream STREAM_ALERTS   subject STREAM.alerts: every alert once; its stream sequence is the alert id
//   KV bucket STREAM_leases  partition leases (p<N>) and worker heartbeats (w.<id>), expiring after lease_ttl_ms
import { connect, nanos, StorageType, type JetStreamClient, type JetStreamManager, type KV, type NatsConnection } from 'nats';
import type { ClusterConfig } from '../config';
import { CollectorError, CollectorErrorCode, errorMessage } from '../errors';

const FLOW_DUPLICATE_WINDOW_MS = 120_000;

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly leases: KV;
  readonly flowStream: string;
  readonly alertStream: string;
  readonly alertSubject: string;
  flowSubject(partition: number): string;
  close(): Promise<void>;
}

async function ensureStream(jsm: JetStreamManager, name: string, subjects: string[], duplicateWindowMs: number): Promise<void> {
  const cfg = { name, subjects, storage: StorageType.File, duplicate_window: nanos(duplicateWindowMs) };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, cfg);
  } catch (err) {
    if (!/not found/i.test(errorMessage(err))) throw err;
    await jsm.streams.add(cfg);
  }
}

export async function connectBus(cfg: ClusterConfig, name: string): Promise<Bus> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: cfg.nats_url, name, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  } catch (err) {
    throw new CollectorError(CollectorErrorCode.CLUSTER_BUS, `cannot connect to NATS at ${cfg.nats_url}: ${errorMessage(err)}`, { cause: err });
  }
  try {
    const jsm = await nc.jetstreamManager();
    const alertStream = `${cfg.stream}_ALERTS`;
    const alertSubject = `${cfg.stream}.alerts`;
    await ensureStream(jsm, cfg.stream, [`${cfg.stream}.p.*`], FLOW_DUPLICATE_WINDOW_MS);
    // Alert keys must stay known for as long as a takeover may replay and raise them again.
    await ensureStream(jsm, alertStream, [alertSubject], Math.max(FLOW_DUPLICATE_WINDOW_MS, 2 * cfg.replay_window_secs * 1000));
    const js = nc.jetstream();
    const leases = await js.views.kv(`${cfg.stream}_leases`, { ttl: cfg.lease_ttl_ms, history: 1 });
    return {
      nc, js, jsm, leases,
      flowStream: cfg.stream,
      alertStream,
      alertSubject,
      flowSubject: (p) => `${cfg.stream}.p.${p}`,
      close: async () => {
        await nc.drain().catch(() => nc.close());
      },
    };
  } catch (err) {
    await nc.close();
    throw new CollectorError(CollectorErrorCode.CLUSTER_BUS, `cannot set up JetStream stream ${cfg.stream} at ${cfg.nats_url}: ${errorMessage(err)}`, { cause: err });
  }
}
