// Keeps the latest health of every agent and flags an agent that goes silent. Wraps the ingest
// handlers (main.ts puts it in front of the pipeline): every hello, heartbeat and batch counts as
// hearing from the agent; nothing heard for `silent_after_missed_heartbeats` of the agent's own
// heartbeat intervals makes it silent: a warning in the log, agent_silent{agent_id} = 1 in /metrics
// and agents.silent_since_us in the store. Hearing from it again clears all three.
import type { AgentUpdate, BatchRecord } from '../model';
import type { Counter, Logger, Registry } from '../obs';
import type { Store } from '../store';
import type { BatchReply, IngestHandlers } from './agent-session';

/** Until an agent reports its interval (heartbeat.interval_ms), the agent's default is assumed. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

interface AgentState {
  lastHeardMs: number;
  intervalMs: number;
  health: Record<string, number>;
  silentSinceMs: number | null;
}

/** Heartbeat figures exported per agent in /metrics (cumulative on the agent unless a gauge by nature). */
const EXPORTED: ReadonlyArray<[key: string, metric: string, help: string]> = [
  ['packets_received', 'agent_packets_received', 'Packets the agent\'s capture received (its last heartbeat).'],
  ['packets_dropped', 'agent_packets_dropped', 'Packets the kernel dropped before the agent\'s capture read them (libpcap ps_drop).'],
  ['packets_if_dropped', 'agent_packets_if_dropped', 'Packets the interface dropped (libpcap ps_ifdrop).'],
  ['flows_active', 'agent_flows_active', 'Flows open in the agent\'s flow table.'],
  ['flows_dropped', 'agent_flows_dropped', 'Exported flows the agent had to discard, over its whole life (spool full, refused).'],
  ['batches_dropped', 'agent_batches_dropped', 'Batches the agent had to discard, over its whole life.'],
  ['spool_bytes', 'agent_spool_bytes', 'Bytes in the agent\'s disk spool.'],
  ['unacked_batches', 'agent_unacked_batches', 'Batches in the agent\'s spool not yet acknowledged.'],
];

export class AgentHealth implements IngestHandlers {
  private readonly agents = new Map<string, AgentState>();
  private readonly wentSilent: Counter;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly inner: IngestHandlers,
    private readonly deps: { store: Store; metrics: Registry; log: Logger; missedHeartbeats: number; now?: () => number },
  ) {
    const m = deps.metrics;
    this.wentSilent = m.counter('agents_went_silent_total', 'Times an agent went silent (no heartbeat for silent_after_missed_heartbeats intervals).');
    m.gauge('agents_silent', 'Agents silent now.', () => [...this.agents.values()].filter((a) => a.silentSinceMs !== null).length);
    m.gauge('agent_silent', 'Per agent: 1 while silent.', () => this.perAgent((a) => (a.silentSinceMs === null ? 0 : 1)));
    m.gauge('agent_last_heard_seconds', 'Per agent: seconds since anything came from it.', () =>
      this.perAgent((a) => Math.round((this.now() - a.lastHeardMs) / 1000)));
    for (const [key, metric, help] of EXPORTED) m.gauge(metric, help, () => this.perAgent((a) => a.health[key] ?? 0));
  }

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  private perAgent(value: (a: AgentState) => number): Array<[{ agent_id: string }, number]> {
    return [...this.agents].map(([agentId, a]) => [{ agent_id: agentId }, value(a)]);
  }

  /** Latest health of one agent (undefined: never heard of since start). */
  latest(agentId: string): { health: Record<string, number>; silent: boolean; lastHeardMs: number } | undefined {
    const a = this.agents.get(agentId);
    return a && { health: a.health, silent: a.silentSinceMs !== null, lastHeardMs: a.lastHeardMs };
  }

  private heard(agentId: string, health?: Record<string, number>): void {
    let a = this.agents.get(agentId);
    if (!a) {
      a = { lastHeardMs: 0, intervalMs: DEFAULT_HEARTBEAT_INTERVAL_MS, health: {}, silentSinceMs: null };
      this.agents.set(agentId, a);
    }
    a.lastHeardMs = this.now();
    if (health) {
      a.health = health;
      if (health.interval_ms > 0) a.intervalMs = health.interval_ms;
    }
    if (a.silentSinceMs !== null) {
      this.deps.log.info('agent heard again', { agent_id: agentId, silent_secs: Math.round((a.lastHeardMs - a.silentSinceMs) / 1000) });
      a.silentSinceMs = null;
    }
  }

  onHello(update: AgentUpdate): Promise<void> {
    this.heard(update.agentId);
    return this.inner.onHello(update);
  }

  onHeartbeat(update: AgentUpdate): Promise<void> {
    this.heard(update.agentId, update.health);
    return this.inner.onHeartbeat(update);
  }

  onBatch(batch: BatchRecord, reply: BatchReply): Promise<void> {
    this.heard(batch.agentId);
    return this.inner.onBatch(batch, reply);
  }

  /** Looks for silent agents every checkMs. */
  start(checkMs = 1000): void {
    this.timer = setInterval(() => void this.check(), checkMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async check(): Promise<void> {
    const now = this.now();
    for (const [agentId, a] of this.agents) {
      if (a.silentSinceMs !== null || now - a.lastHeardMs <= this.deps.missedHeartbeats * a.intervalMs) continue;
      a.silentSinceMs = now;
      this.wentSilent.inc();
      this.deps.log.warn('agent silent', {
        agent_id: agentId,
        last_heard_secs_ago: Math.round((now - a.lastHeardMs) / 1000),
        missed_heartbeats: this.deps.missedHeartbeats,
        heartbeat_interval_ms: a.intervalMs,
      });
      try {
        await this.deps.store.touchAgent({ agentId, lastSeenUs: a.lastHeardMs * 1000, silentSinceUs: now * 1000 });
      } catch (err) {
        this.deps.log.error('cannot record a silent agent', { agent_id: agentId, err: (err as Error).message });
      }
    }
  }
}
