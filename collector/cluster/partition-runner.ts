// One partition on the worker that holds its lease: a durable pull consumer `worker-p<N>` on
// STREAM.p.<N> with explicit acks, feeding the store and the partition's own detectors; alerts go to
// the alert stream (alerts.ts). Storing: a store shared by the cluster (PostgreSQL, putParts) takes
// every part that arrived together in ONE transaction, each part deduped by (agent, boot, seq, part);
// a partition's own SQLite file (cluster.partition_store_dir) takes one transaction per part, deduped
// by (agent, boot, seq), unique within the partition. With a shared store, each alert is also stored
// there under its stream sequence (putClusterAlert) before the parts that raised it are acked.
//
// Takeover (start): the previous owner's detection state is REBUILT, not checkpointed. The durable
// consumer's ack floor F says how far the previous owner got; the messages of this partition published
// from (time of F − replay_window_secs) up to F are replayed through fresh detectors (their alerts are
// published again and dropped by JetStream as duplicate keys), then the consumer is recreated to
// deliver from F + 1 in order, at once (no wait for the dead owner's ack_wait). A message is acked only
// after its part is stored and its alerts have PubAcks; one that was stored but not acked before a
// crash comes again, the store answers 'duplicate' and detection still sees it once (this owner's state
// never saw it). Past the stream's last sequence at takeover, a 'duplicate' from the store is an agent
// resend older than the duplicate window: stored and counted once already, so not detected again.
// A runner that fails (the alert stream or the store refused an alert) tells its worker, which gives
// the partition up; it is taken again (by any worker) and rebuilt from the ack floor.
import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg } from 'nats';
import type { DetectRunner } from '../detect';
import { errorMessage } from '../errors';
import type { Alert, FlowRow, PutBatchResult } from '../model';
import type { Counter, Logger } from '../obs';
import type { Store } from '../store';
import type { Bus } from './bus';
import { publishAlert } from './alerts';
import { decodePart, partToBatch, type BatchPart } from './codec';

export interface Detection {
  runner: DetectRunner;
  close(): void;
}

export interface PartitionDeps {
  bus: Bus;
  store: Store;
  detection: Detection;
  replayWindowSecs: number;
  counters: {
    flowsStored: Counter; partsStored: Counter; partsDuplicate: Counter; replayed: Counter; alertsPublished: Counter; alertsStored: Counter;
    failures: Counter;
  };
  /** the runner stopped on an error (not by stop()) */
  onFailed(): void;
  /** an alert this runner stored first in the shared store (not a duplicate): audited once, here */
  onAlertStored?(alert: Alert): Promise<void>;
  log: Logger;
}

const ACK_WAIT_MS = 30_000;
const MAX_ACK_PENDING = 1024;
const REPLAY_PAGE = 256;

export class PartitionRunner {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private messagesEnded = false;
  private lastSeqAtTakeover = 0;
  readonly done: Promise<void>;

  constructor(readonly partition: number, private readonly deps: PartitionDeps) {
    this.done = this.run().catch((err) => {
      if (!this.stopped) {
        deps.counters.failures.inc();
        deps.log.error('partition runner failed', { partition, err: errorMessage(err) });
        deps.onFailed();
      }
    });
  }

  private get consumerName(): string {
    return `worker-p${this.partition}`;
  }

  private async run(): Promise<void> {
    const { bus } = this.deps;
    let floor = 0;
    try {
      const info = await bus.jsm.consumers.info(bus.flowStream, this.consumerName);
      floor = info.ack_floor.stream_seq;
      await bus.jsm.consumers.delete(bus.flowStream, this.consumerName);
    } catch (err) {
      if (!/not found/i.test(errorMessage(err))) throw err;
    }
    this.lastSeqAtTakeover = (await bus.jsm.streams.info(bus.flowStream)).state.last_seq;
    if (floor > 0) await this.rebuild(floor);
    if (this.stopped) return;
    await bus.jsm.consumers.add(bus.flowStream, {
      durable_name: this.consumerName,
      filter_subject: bus.flowSubject(this.partition),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(ACK_WAIT_MS),
      max_ack_pending: MAX_ACK_PENDING,
      ...(floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const consumer = await bus.js.consumers.get(bus.flowStream, this.consumerName);
    this.messages = await consumer.consume({ max_messages: REPLAY_PAGE });
    if (this.stopped) {
      // Stopped while starting: close() settles only once its messages are iterated, and nothing will.
      void this.messages.close();
      return;
    }
    // Whatever has arrived while the previous group was processed is one group: stored together (one
    // transaction with a shared store), detected together (one detector call instead of one per part).
    const queue: JsMsg[] = [];
    let wake: (() => void) | undefined;
    const reader = (async () => {
      for await (const m of this.messages!) {
        queue.push(m);
        wake?.();
      }
      this.messagesEnded = true;
      wake?.();
    })();
    while (!this.stopped) {
      if (queue.length === 0) {
        if (this.messagesEnded) break;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      await this.processGroup(queue.splice(0, queue.length));
    }
    await reader;
  }

  /** Replays the window before the ack floor into the fresh detectors (nothing stored, nothing acked). */
  private async rebuild(floor: number): Promise<void> {
    const { bus } = this.deps;
    let startTime: Date | undefined;
    try {
      startTime = (await bus.jsm.streams.getMessage(bus.flowStream, { seq: floor })).time;
    } catch {
      startTime = undefined; // aged out of the stream: replay what is left
    }
    const opts = startTime
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(startTime.getTime() - this.deps.replayWindowSecs * 1000).toISOString() }
      : { deliver_policy: DeliverPolicy.All };
    const replay = await bus.js.consumers.get(bus.flowStream, { filterSubjects: bus.flowSubject(this.partition), ...opts });
    let seq = 0;
    while (seq < floor && !this.stopped) {
      const batch = await replay.fetch({ max_messages: REPLAY_PAGE, expires: 1000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        seq = m.seq;
        if (seq > floor) break;
        this.deps.counters.replayed.inc();
        await this.detect(decodePart(m.data).flows);
      }
      if (got === 0) break;
    }
    this.deps.log.info('partition state rebuilt', { partition: this.partition, ack_floor: floor, replayed_to: seq });
  }

  private async processGroup(group: JsMsg[]): Promise<void> {
    const flows: FlowRow[] = [];
    const done: JsMsg[] = [];
    const parts = group.map((m) => decodePart(m.data));
    const results = await this.storeParts(parts, group);
    for (const [i, m] of group.entries()) {
      const part = parts[i];
      const result = results[i];
      if (result === undefined) continue; // not stored, not acked: JetStream delivers it again after ack_wait
      if (result === 'stored') {
        this.deps.counters.partsStored.inc();
        this.deps.counters.flowsStored.inc(undefined, part.flows.length);
      } else {
        this.deps.counters.partsDuplicate.inc();
      }
      if (result === 'stored' || m.seq <= this.lastSeqAtTakeover) for (const f of part.flows) flows.push(f);
      done.push(m);
    }
    if (flows.length > 0) await this.detect(flows);
    for (const m of done) m.ack();
  }

  /**
   * One result per part; undefined where it was not stored (logged and counted). A group the shared
   * store refused is tried again part by part, so one part it cannot take holds back only itself.
   */
  private async storeParts(parts: BatchPart[], group: JsMsg[]): Promise<Array<PutBatchResult | undefined>> {
    const { store, counters, log } = this.deps;
    if (store.putParts && parts.length > 1) {
      try {
        return await store.putParts(parts);
      } catch (err) {
        log.warn('cannot store a group of parts; storing them one by one', { partition: this.partition, parts: parts.length, err: errorMessage(err) });
      }
    }
    const results: Array<PutBatchResult | undefined> = [];
    for (const [i, part] of parts.entries()) {
      try {
        results.push(store.putParts ? (await store.putParts([part]))[0] : await store.putBatch(partToBatch(part)));
      } catch (err) {
        counters.failures.inc();
        log.error('cannot store part', { partition: this.partition, seq: group[i].seq, err: errorMessage(err) });
        results.push(undefined);
      }
    }
    return results;
  }

  private async detect(flows: FlowRow[]): Promise<void> {
    const { bus, store, counters } = this.deps;
    const nowSecs = Date.now() / 1000;
    for (const alert of this.deps.detection.runner.run(flows)) {
      const published = await publishAlert(bus, alert, nowSecs);
      if (published.fresh) counters.alertsPublished.inc();
      if (!store.putClusterAlert) continue;
      // A duplicate key is stored too: the previous owner may have died between publishing and storing.
      const stored: Alert = { ...alert, id: published.id, ts: nowSecs };
      const result = await store.putClusterAlert(stored, published.key);
      if (result === 'stored') {
        counters.alertsStored.inc();
        await this.deps.onAlertStored?.(stored);
      }
      if (result === 'id_taken') {
        counters.failures.inc();
        this.deps.log.error('alert id taken in the store by another alert (was the alert stream recreated?)', { id: published.id, key: published.key });
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    this.messagesEnded = true;
    await this.done;
    this.deps.detection.close();
  }
}
