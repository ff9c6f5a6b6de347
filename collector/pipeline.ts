// The collector's one path for data: onBatch → store.putBatch (one transaction) → ack → detect →
// alerts. The ack goes out only after the store has committed; detection runs on newly stored batches
// only (a duplicate was seen before). Counters here wrap the stages rather than live inside them.
import { errorMessage } from './errors';
import type { AlertHub } from './alerts';
import type { DetectRunner } from './detect';
import type { BatchReply, IngestHandlers } from './ingest';
import type { AgentUpdate, BatchRecord } from './model';
import type { Counter, Histogram, Logger, Registry } from './obs';
import type { Store } from './store';

export interface PipelineDeps {
  store: Store;
  detect: DetectRunner;
  hub: AlertHub;
  metrics: Registry;
  log: Logger;
}

export class Pipeline implements IngestHandlers {
  private readonly stored: Counter;
  private readonly duplicates: Counter;
  private readonly flowsStored: Counter;
  private readonly storeFailures: Counter;
  private readonly internalErrors: Counter;
  private readonly ingestLag: Histogram;

  constructor(private readonly deps: PipelineDeps, private readonly nowUs: () => number = () => Date.now() * 1000) {
    const m = deps.metrics;
    this.stored = m.counter('batches_stored_total', 'Batches stored (committed) and acknowledged STORED.');
    this.duplicates = m.counter('batches_duplicate_total', 'Batches already stored, acknowledged DUPLICATE and not stored again.');
    this.flowsStored = m.counter('flows_stored_total', 'Flows stored.');
    this.storeFailures = m.counter('store_failures_total', 'Batches the store failed to write (answered STORE_FAILED, not acknowledged).');
    this.internalErrors = m.counter('internal_errors_total', 'Unexpected exceptions caught in a handler, by where.');
    // A replayed capture has flows from long ago: its lag lands in the top buckets, which is the truth.
    this.ingestLag = m.histogram('ingest_lag_seconds', 'Time from a flow record\'s last packet to its storage (now - last_ts at commit).',
      [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 86400]);
  }

  async onHello(update: AgentUpdate): Promise<void> {
    await this.deps.store.touchAgent(update);
  }

  async onHeartbeat(update: AgentUpdate): Promise<void> {
    await this.deps.store.touchAgent(update);
  }

  async onBatch(batch: BatchRecord, reply: BatchReply): Promise<void> {
    let result;
    try {
      result = await this.deps.store.putBatch(batch);
    } catch (err) {
      this.storeFailures.inc();
      this.deps.log.error('cannot store batch', { agent_id: batch.agentId, boot_id: batch.bootId, seq: batch.seq, err: errorMessage(err) });
      reply.storeFailed(`batch ${batch.seq} not stored: ${errorMessage(err)}`);
      return;
    }
    if (result === 'duplicate') {
      this.duplicates.inc();
      reply.ack('duplicate', 0);
      return;
    }
    this.stored.inc();
    this.flowsStored.inc(undefined, batch.flows.length);
    const now = this.nowUs();
    for (const f of batch.flows) this.ingestLag.observe(Math.max(0, now - f.lastUs) / 1e6);
    reply.ack('stored', batch.flows.length);
    try {
      for (const alert of this.deps.detect.run(batch.flows)) await this.deps.hub.raise(alert);
    } catch (err) {
      this.internalErrors.inc({ where: 'pipeline_detect' });
      this.deps.log.error('detection after store failed', { agent_id: batch.agentId, seq: batch.seq, err: errorMessage(err) });
    }
  }
}
