// The dashboard's read-only JSON views, each built from the Store (and, for detectors, the metrics the
// runner keeps). Field names are snake_case like the alert contract. Times are seconds since the epoch.
import { verifyChain, type VerifyCheckpoint } from '../audit';
import { exportStix, filterFromQuery, parseSince, toAlertFilter, type StixBundle, type StixProducer } from '../alerts';
import { alertToJson, type Alert } from '../model';
import type { Registry } from '../obs';
import type { AgentView, FlowView, Store } from '../store';
import { HttpError, intParam } from './http-util';

/** An agent is online while its heartbeats arrive, stale after a missed few, offline after minutes. */
export const ONLINE_SECS = 60;
export const STALE_SECS = 300;
/** The window of "capture rate": flows of the batches received in the last minute. */
export const RATE_WINDOW_SECS = 60;

export interface DetectorInfo {
  name: string;
  /** its config section (detect.<name>), when there is one */
  config: Record<string, unknown> | undefined;
  /** numbers the detector reports about itself (tracked pairs, learning progress, ...) */
  state(): Record<string, number>;
}

/**
 * What a detector tells about itself: its `state()` when it has one, else every number-valued getter
 * on its class (PortScanDetector's trackedPairs → tracked_pairs).
 */
export function detectorState(d: object): Record<string, number> {
  const own = (d as { state?: unknown }).state;
  if (typeof own === 'function') return (own as () => Record<string, number>).call(d);
  const out: Record<string, number> = {};
  for (let p = Object.getPrototypeOf(d) as object | null; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const [k, desc] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (!desc.get) continue;
      const v: unknown = desc.get.call(d);
      if (typeof v === 'number') out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
    }
  }
  return out;
}

export function agentJson(a: AgentView, nowSecs: number): Record<string, unknown> {
  const lastSeen = a.lastSeenUs / 1e6;
  const age = nowSecs - lastSeen;
  const h = a.health;
  const num = (k: string): number | null => (h && typeof h[k] === 'number' && h[k] >= 0 ? h[k] : null);
  const kernel = num('packets_dropped');
  const iface = num('packets_if_dropped');
  return {
    agent_id: a.agentId,
    status: age < ONLINE_SECS ? 'online' : age < STALE_SECS ? 'stale' : 'offline',
    last_seen: lastSeen,
    hostname: a.hostname,
    version: a.softwareVersion,
    source: a.source,
    boot_id: a.bootId,
    capture_rate_pps: a.recentPackets / RATE_WINDOW_SECS,
    flow_rate_fps: a.recentFlows / RATE_WINDOW_SECS,
    packets_received: num('packets_received'),
    packets_dropped: kernel === null && iface === null ? null : (kernel ?? 0) + (iface ?? 0),
    flows_dropped: num('flows_dropped'),
    flows_active: num('flows_active'),
    unacked_batches: num('unacked_batches'),
    decode_errors: num('decode_errors'),
  };
}

export function flowJson(f: FlowView): Record<string, unknown> {
  return {
    agent_id: f.agentId, boot_id: f.bootId, flow_id: f.flowId, record_seq: f.recordSeq, record_type: f.recordType,
    community_id: f.communityId, conn_state: f.connState, src_ip: f.srcIp, src_port: f.srcPort, dst_ip: f.dstIp,
    dst_port: f.dstPort, proto: f.proto, first_ts: f.firstTs, last_ts: f.lastTs, fwd_packets: f.fwdPackets,
    bwd_packets: f.bwdPackets, fwd_bytes: f.fwdBytes, bwd_bytes: f.bwdBytes, tcp_flags: f.tcpFlags,
    end_reason: f.endReason, app: f.app,
  };
}

export interface ApiDeps {
  store: Store;
  metrics: Registry;
  detectors: readonly DetectorInfo[];
  producer: StixProducer;
  nowSecs(): number;
}

function alertFilter(q: URLSearchParams): ReturnType<typeof toAlertFilter> {
  const parsed = filterFromQuery(q);
  if ('error' in parsed) throw new HttpError(400, parsed.error);
  return toAlertFilter(parsed.spec);
}

/** [from, to) ending at the newest stored flow (data time: a replayed capture shows its own hour). */
async function dataWindow(store: Store, q: URLSearchParams): Promise<{ from: number; to: number; windowSecs: number }> {
  const windowSecs = intParam(q, 'window_secs', 3600, 60, 30 * 86400);
  const latest = await store.latestFlowTs();
  const to = Math.floor(latest ?? 0) + 1;
  return { from: to - windowSecs, to, windowSecs };
}

export class Api {
  /** the audit chain up to here has verified; later checks start after it */
  private auditCheckpoint: VerifyCheckpoint | undefined;

  constructor(private readonly deps: ApiDeps) {}

  async agents(): Promise<unknown> {
    const now = this.deps.nowSecs();
    const rows = await this.deps.store.agents(now * 1e6, RATE_WINDOW_SECS * 1e6);
    return { now, agents: rows.map((a) => agentJson(a, now)) };
  }

  async alerts(q: URLSearchParams): Promise<unknown> {
    const limit = intParam(q, 'limit', 50, 1, 1000);
    const beforeId = q.has('before_id') ? intParam(q, 'before_id', 0, 1, Number.MAX_SAFE_INTEGER) : undefined;
    const alerts = await this.deps.store.queryAlerts({ beforeId, limit, filter: alertFilter(q) });
    return { alerts: alerts.map(alertToJson) };
  }

  async alert(id: number): Promise<unknown> {
    const a: Alert | undefined = await this.deps.store.alertById(id);
    if (!a) throw new HttpError(404, `no alert ${id}`);
    const flows = await this.deps.store.evidenceFlows(a, 500);
    return { alert: alertToJson(a), flows: flows.map(flowJson) };
  }

  async topTalkers(q: URLSearchParams): Promise<unknown> {
    const w = await dataWindow(this.deps.store, q);
    const limit = intParam(q, 'limit', 10, 1, 100);
    return { from: w.from, to: w.to, talkers: await this.deps.store.topTalkers(w.from, w.to, limit) };
  }

  async traffic(q: URLSearchParams): Promise<unknown> {
    const w = await dataWindow(this.deps.store, q);
    const buckets = intParam(q, 'buckets', 60, 1, 1000);
    let from = w.from;
    let bucketSecs = Math.max(1, Math.ceil(w.windowSecs / buckets));
    let series = await this.deps.store.traffic(from, w.to, bucketSecs);
    // Data covering only the end of the window (a short capture) is drawn over its own span instead.
    if (series.length > 0 && series[0].ts > from + bucketSecs) {
      from = Math.floor(series[0].ts);
      bucketSecs = Math.max(1, Math.ceil((w.to - from) / buckets));
      series = await this.deps.store.traffic(from, w.to, bucketSecs);
    }
    return { from, to: w.to, bucket_secs: bucketSecs, series };
  }

  async detectors(): Promise<unknown> {
    const failures = this.deps.metrics.counter('detector_failures_total', 'Detector invocations that threw; the other detectors still ran.');
    const counts = await this.deps.store.alertCounts();
    return {
      detectors: this.deps.detectors.map((d) => ({
        name: d.name,
        enabled: true,
        config: d.config ?? null,
        state: d.state(),
        failures: failures.get({ detector: d.name }),
      })),
      alerts_by_category: counts.map((c) => ({ category: c.category, count: c.count, last_ts: c.lastTs })),
    };
  }

  async stix(q: URLSearchParams): Promise<StixBundle> {
    let sinceTs: number | undefined;
    const since = q.get('since');
    if (since !== null && since !== '') {
      sinceTs = parseSince(since, this.deps.nowSecs());
      if (sinceTs === undefined) throw new HttpError(400, `since must be an RFC 3339 time, unix seconds or an age like 24h (got ${JSON.stringify(since)})`);
    }
    const limit = intParam(q, 'limit', 10_000, 1, 100_000);
    return exportStix(this.deps.store, this.deps.producer, { sinceTs, filter: alertFilter(q), limit });
  }

  /**
   * The audit chain's state for the dashboard, verified incrementally: entries already checked are not
   * read again (a full re-check of old rows is `collector audit verify`'s job).
   */
  async audit(): Promise<unknown> {
    const r = await verifyChain(this.deps.store, this.auditCheckpoint);
    if (r.ok) this.auditCheckpoint = r.checkpoint;
    return { ok: r.ok, entries: r.entries, last_hash: r.lastHash, broken: r.broken ?? null };
  }
}
