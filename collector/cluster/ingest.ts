// Ingest role: the agent's batch, once validated, goes to JetStream instead of the local store. It is
// split by partition (partition.ts), each part published with the message id `agent.boot.seq.part`, and
// the agent is acknowledged only when JetStream has persisted every part (all PubAcks in). A resend
// (the agent reconnected to another collector before its ack arrived) publishes the same ids again and
// JetStream answers "duplicate"; the ack is then 'duplicate'. Flows are stored by the worker that owns
// the partition (worker.ts), so the store sees each part once whichever collector took the batch.
// While the workers are more than cluster.max_backlog_msgs parts behind (backlog.ts), a batch waits
// before it is published: its ack comes later, the agent's window of unacknowledged batches fills and
// the agent spools, so the backlog stays bounded (as the single process does when its store is slow).
// Hello and heartbeats still go to this collector's store (agent health for its dashboard).
import { errorMessage } from '../errors';
import type { BatchReply, IngestHandlers } from '../ingest';
import type { AgentUpdate, BatchRecord } from '../model';
import type { Counter, Histogram, Logger, Registry } from '../obs';
import type { Store } from '../store';
import type { Backlog } from './backlog';
import type { Bus } from './bus';
import { encodePart, partMsgId, type BatchPart } from './codec';
import { splitByPartition } from './partition';

export interface ClusterIngestDeps {
  bus: Bus;
  partitions: number;
  /** 0 = no bound */
  maxBacklogMsgs: number;
  backlog: Backlog;
  store: Store;
  metrics: Registry;
  log: Logger;
}

export class ClusterIngest implements IngestHandlers {
  private readonly published: Counter;
  private readonly duplicates: Counter;
  private readonly failures: Counter;
  private readonly held: Counter;
  private readonly pubLatency: Histogram;

  constructor(private readonly deps: ClusterIngestDeps) {
    const m = deps.metrics;
    this.published = m.counter('cluster_parts_published_total', 'Batch parts persisted by JetStream (PubAck received).');
    this.duplicates = m.counter('cluster_batches_duplicate_total', 'Batches JetStream already had (every part a duplicate), acknowledged DUPLICATE.');
    this.failures = m.counter('cluster_publish_failures_total', 'Batches not acknowledged because JetStream did not persist every part.');
    this.held = m.counter('cluster_batches_held_total', 'Batches held before publishing while the workers were cluster.max_backlog_msgs parts behind.');
    m.gauge('cluster_backlog_msgs', 'Batch parts published but not yet acknowledged by the partition workers (polled).', () => deps.backlog.behind);
    this.pubLatency = m.histogram('cluster_publish_seconds', 'Time from a validated batch to the last PubAck of its parts.', [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]);
  }

  async onHello(update: AgentUpdate): Promise<void> {
    await this.deps.store.touchAgent(update);
  }

  async onHeartbeat(update: AgentUpdate): Promise<void> {
    await this.deps.store.touchAgent(update);
  }

  async onBatch(batch: BatchRecord, reply: BatchReply): Promise<void> {
    const { bus, partitions, maxBacklogMsgs, backlog } = this.deps;
    if (maxBacklogMsgs > 0 && backlog.behind > maxBacklogMsgs) {
      this.held.inc();
      await backlog.below(maxBacklogMsgs);
    } else {
      backlog.add(partitions);
    }
    const started = process.hrtime.bigint();
    const parts = splitByPartition(batch.flows, partitions);
    let allDuplicate = parts.size > 0;
    try {
      const acks = await Promise.all([...parts].map(([part, flows]) => {
        const p: BatchPart = { agentId: batch.agentId, bootId: batch.bootId, seq: batch.seq, part, receivedUs: batch.receivedUs, flows };
        return bus.js.publish(bus.flowSubject(part), encodePart(p), { msgID: partMsgId(p) });
      }));
      for (const a of acks) if (!a.duplicate) allDuplicate = false;
    } catch (err) {
      this.failures.inc();
      this.deps.log.error('cannot publish batch to JetStream', { agent_id: batch.agentId, seq: batch.seq, err: errorMessage(err) });
      reply.storeFailed(`batch ${batch.seq} not persisted by JetStream: ${errorMessage(err)}`);
      return;
    }
    this.pubLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.published.inc(undefined, parts.size);
    if (allDuplicate) {
      this.duplicates.inc();
      reply.ack('duplicate', 0);
      return;
    }
    reply.ack('stored', batch.flows.length);
  }
}
