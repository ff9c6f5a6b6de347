// The agent's disk spool: every encoded batch is written here first, the sender reads it back from
// here, and it is deleted only once the collector has acknowledged it as stored. The format of the
// files is in spool-format.ts.
//
// Invariants:
// - Records are appended to one active segment; a segment full at segment_bytes is closed and never
//   written again. Record ids are consecutive within a segment and grow over the spool's whole life.
// - A record is "done" once acknowledged (or refused by the collector, or dropped); a closed segment
//   whose records are all done is deleted. `acked_through` in the state file is the highest id below
//   which every record is done; it is written on every advance (no fsync: it survives a killed process;
//   after a power cut a stale value only means a few batches go again, which the collector recognises).
// - The files never exceed max_bytes in total. When a record does not fit, the full policy decides:
//   `block` refuses it (a caller that can wait uses gate() first, so only a live capture ever sees a
//   refusal); `drop_oldest` deletes the oldest segment holding no batch that was sent and not answered
//   (such a batch may be stored already, its ack lost: dropping it could count a delivered batch as
//   lost). Every batch refused or deleted unacknowledged is counted, in batches and flows, in the state
//   file: the counters survive restarts.
// - open() cuts torn or corrupt tails (the first record that fails its checks ends its segment), counts
//   them, and never fails on bad contents; it fails only when the directory is unusable or locked.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { AgentError, AgentErrorCode } from '../errors';
import {
  decodeState, encodeState, isSegmentHeader, MAX_BOOT_ID_BYTES, parseRecord, parseSegmentName, RECORD_HEADER_BYTES,
  recordHeader, SEGMENT_HEADER_BYTES, segmentHeader, segmentName, STATE_SLOT_BYTES, type SpoolState,
} from './spool-format';

export type FullPolicy = 'block' | 'drop_oldest';

export interface SpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fullPolicy: FullPolicy;
}

export interface SpoolRecord {
  readonly id: number;
  readonly seq: number;
  readonly bootId: string;
  readonly flows: number;
  /** acknowledged, refused or dropped: never to be sent again */
  done: boolean;
  /**
   * Sent at least once and not answered yet: the collector may have stored it with the ack lost on the
   * way, so drop_oldest leaves its segment alone (dropping it could count a delivered batch as lost).
   */
  sent: boolean;
  readonly segment: Segment;
  readonly payloadOffset: number;
  readonly payloadBytes: number;
}

interface Segment {
  readonly firstId: number;
  readonly path: string;
  fd: number;
  bytes: number;
  readonly records: SpoolRecord[];
  /** records not done */
  pending: number;
}

export interface SpoolCounters {
  batchesAppended: number;
  /** unacknowledged batches found on disk at open */
  batchesRecovered: number;
  /** ever, over restarts */
  batchesDropped: number;
  flowsDropped: number;
  tornTails: number;
  bytesCut: number;
  ioErrors: number;
}

function spoolError(message: string, cause?: unknown): AgentError {
  return new AgentError(AgentErrorCode.SPOOL, message, { cause });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One process per spool directory: a `lock` file holding our pid; a dead owner's lock is taken over. */
function lockDir(dir: string): string {
  const lock = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return lock;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw spoolError(`cannot lock spool ${dir}: ${(err as Error).message}`, err);
      const owner = Number(fs.readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) {
        throw new AgentError(AgentErrorCode.SPOOL_LOCKED, `spool ${dir} is in use by process ${owner} (another agent?); give each agent its own spool.dir`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw spoolError(`cannot lock spool ${dir}`);
}

export class Spool {
  readonly counters: SpoolCounters = {
    batchesAppended: 0, batchesRecovered: 0, batchesDropped: 0, flowsDropped: 0, tornTails: 0, bytesCut: 0, ioErrors: 0,
  };
  lastError: AgentError | null = null;
  private readonly segments: Segment[] = [];
  private active: Segment | null = null;
  private totalBytes = 0;
  private pendingCount = 0;
  private nextId = 1;
  private ackedThrough = 0;
  private generation = 0;
  private readonly stateFd: number;
  private readonly lockPath: string;
  private gateWaiters: Array<() => void> = [];
  private readBuf = Buffer.alloc(0);
  private closed = false;

  private constructor(private readonly opts: SpoolOptions) {
    try {
      fs.mkdirSync(opts.dir, { recursive: true });
    } catch (err) {
      throw spoolError(`cannot create spool directory ${opts.dir}: ${(err as Error).message}`, err);
    }
    this.lockPath = lockDir(opts.dir);
    try {
      this.stateFd = fs.openSync(join(opts.dir, 'state'), fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
      const buf = Buffer.alloc(2 * STATE_SLOT_BYTES);
      fs.readSync(this.stateFd, buf, 0, buf.length, 0);
      const s = decodeState(buf);
      if (s) {
        this.generation = s.generation;
        this.ackedThrough = s.ackedThrough;
        this.counters.batchesDropped = s.batchesDropped;
        this.counters.flowsDropped = s.flowsDropped;
        this.counters.tornTails = s.tornTails;
        this.counters.bytesCut = s.bytesCut;
      }
      this.nextId = this.ackedThrough + 1;
      this.load();
      this.writeState();
    } catch (err) {
      fs.rmSync(this.lockPath, { force: true });
      if (err instanceof AgentError) throw err;
      throw spoolError(`cannot open spool ${opts.dir}: ${(err as Error).message}`, err);
    }
  }

  /** Opens (creating if needed) the spool in opts.dir, recovering what an earlier run left. */
  static open(opts: SpoolOptions): Spool {
    return new Spool(opts);
  }

  /** Bytes of all segment files. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Batches not yet acknowledged (nor dropped). */
  get pendingBatches(): number {
    return this.pendingCount;
  }

  private load(): void {
    const names = fs.readdirSync(this.opts.dir)
      .map((name) => ({ name, firstId: parseSegmentName(name) }))
      .filter((s): s is { name: string; firstId: number } => s.firstId !== null)
      .sort((a, b) => a.firstId - b.firstId);
    for (const { name, firstId } of names) {
      const path = join(this.opts.dir, name);
      const buf = fs.readFileSync(path);
      if (!isSegmentHeader(buf)) {
        // A power cut before the header reached the disk: nothing in it can be trusted.
        this.cutTail(buf.length);
        fs.rmSync(path, { force: true });
        continue;
      }
      const seg: Segment = { firstId, path, fd: -1, bytes: SEGMENT_HEADER_BYTES, records: [], pending: 0 };
      let at = SEGMENT_HEADER_BYTES;
      for (let id = firstId; ; id++) {
        const r = parseRecord(buf, at, id);
        if (!r) break;
        const done = r.id <= this.ackedThrough;
        seg.records.push({ ...r, done, sent: false, segment: seg });
        if (!done) seg.pending++;
        at += r.recordBytes;
      }
      if (at < buf.length) {
        fs.truncateSync(path, at);
        this.cutTail(buf.length - at);
      }
      seg.bytes = at;
      const last = seg.records.at(-1);
      this.nextId = Math.max(this.nextId, last ? last.id + 1 : firstId);
      if (seg.pending === 0) {
        fs.rmSync(path, { force: true });
        continue;
      }
      seg.fd = fs.openSync(path, 'r');
      this.segments.push(seg);
      this.totalBytes += seg.bytes;
      this.pendingCount += seg.pending;
      this.counters.batchesRecovered += seg.pending;
    }
  }

  private cutTail(bytes: number): void {
    this.counters.tornTails++;
    this.counters.bytesCut += bytes;
  }

  private writeState(): void {
    const s: SpoolState = {
      generation: ++this.generation,
      ackedThrough: this.ackedThrough,
      batchesDropped: this.counters.batchesDropped,
      flowsDropped: this.counters.flowsDropped,
      tornTails: this.counters.tornTails,
      bytesCut: this.counters.bytesCut,
    };
    fs.writeSync(this.stateFd, encodeState(s), 0, STATE_SLOT_BYTES, (s.generation % 2) * STATE_SLOT_BYTES);
  }

  /**
   * Writes one batch. False when it was not kept: the spool is full under `block`, it is larger than
   * the whole spool, or the disk refused the write (lastError says why); all counted as dropped.
   */
  append(seq: number, bootId: string, flows: number, payload: Uint8Array): boolean {
    if (this.closed) return false;
    const bootBytes = Buffer.byteLength(bootId);
    const recordBytes = RECORD_HEADER_BYTES + bootBytes + payload.length;
    const need = recordBytes + SEGMENT_HEADER_BYTES;
    // A batch larger than the whole spool is refused by itself, before it can evict anything.
    if (bootBytes > MAX_BOOT_ID_BYTES || need > this.opts.maxBytes || !this.makeRoom(need)) {
      this.drop(1, flows);
      return false;
    }
    try {
      let seg = this.active;
      if (!seg || seg.bytes + recordBytes > this.opts.segmentBytes) {
        this.closeActive();
        seg = this.newSegment();
      }
      const id = this.nextId;
      const header = recordHeader({ id, seq, bootId, flows }, payload);
      fs.writevSync(seg.fd, [header, payload], seg.bytes);
      seg.records.push({
        id, seq, bootId, flows, done: false, sent: false, segment: seg,
        payloadOffset: seg.bytes + header.length, payloadBytes: payload.length,
      });
      this.nextId++;
      seg.bytes += recordBytes;
      seg.pending++;
      this.totalBytes += recordBytes;
      this.pendingCount++;
      this.counters.batchesAppended++;
      return true;
    } catch (err) {
      this.counters.ioErrors++;
      this.lastError = spoolError(`cannot write to spool ${this.opts.dir}: ${(err as Error).message}`, err);
      this.drop(1, flows);
      return false;
    }
  }

  private newSegment(): Segment {
    const path = join(this.opts.dir, segmentName(this.nextId));
    const fd = fs.openSync(path, 'w+', 0o600);
    const seg: Segment = { firstId: this.nextId, path, fd, bytes: 0, records: [], pending: 0 };
    fs.writeSync(fd, segmentHeader(), 0, SEGMENT_HEADER_BYTES, 0);
    seg.bytes = SEGMENT_HEADER_BYTES;
    this.totalBytes += SEGMENT_HEADER_BYTES;
    this.segments.push(seg);
    this.active = seg;
    return seg;
  }

  /** The active segment is written no more: flushed to disk, or deleted at once if all of it is done. */
  private closeActive(): void {
    const seg = this.active;
    if (!seg) return;
    this.active = null;
    if (seg.pending === 0) {
      this.removeSegment(seg);
      return;
    }
    try {
      fs.fdatasyncSync(seg.fd);
    } catch {
      // A segment we cannot flush is still readable from the page cache; the next write reports the disk.
    }
  }

  /** Frees space for `need` more bytes according to the full policy; false when that cannot be done. */
  private makeRoom(need: number): boolean {
    while (this.totalBytes + need > this.opts.maxBytes) {
      if (this.opts.fullPolicy === 'block') return false;
      const victim = this.segments.find((s) => !s.records.some((r) => r.sent && !r.done));
      if (!victim) return false;
      if (victim === this.active) this.active = null;
      let batches = 0;
      let flows = 0;
      for (const r of victim.records) {
        if (r.done) continue;
        r.done = true;
        batches++;
        flows += r.flows;
      }
      this.pendingCount -= batches;
      victim.pending = 0;
      this.removeSegment(victim);
      this.drop(batches, flows);
      this.advance();
    }
    return true;
  }

  private drop(batches: number, flows: number): void {
    if (batches === 0) return;
    this.counters.batchesDropped += batches;
    this.counters.flowsDropped += flows;
    this.writeState();
  }

  private removeSegment(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i >= 0) this.segments.splice(i, 1);
    this.totalBytes -= seg.bytes;
    try {
      fs.closeSync(seg.fd);
      fs.rmSync(seg.path, { force: true });
    } catch (err) {
      this.counters.ioErrors++;
      this.lastError = spoolError(`cannot delete spool segment ${seg.path}: ${(err as Error).message}`, err);
    }
    this.wakeGate();
  }

  /** The oldest record not done with an id above `afterId` (0: from the start). */
  next(afterId: number): SpoolRecord | undefined {
    for (const seg of this.segments) {
      if (seg.pending === 0 || (seg.records.at(-1)?.id ?? 0) <= afterId) continue;
      for (let i = Math.max(0, afterId + 1 - seg.firstId); i < seg.records.length; i++) {
        if (!seg.records[i].done) return seg.records[i];
      }
    }
    return undefined;
  }

  /**
   * The payload of a record, read back from its segment (the page cache, as a rule) into one buffer the
   * spool reuses: valid until the next read(). A fresh half-megabyte buffer per batch kept the agent's
   * garbage collector busy (external memory brings on full collections).
   */
  read(r: SpoolRecord): Buffer {
    if (this.readBuf.length < r.payloadBytes) this.readBuf = Buffer.allocUnsafe(Math.max(r.payloadBytes, 2 * this.readBuf.length));
    const buf = this.readBuf.subarray(0, r.payloadBytes);
    const n = fs.readSync(r.segment.fd, buf, 0, r.payloadBytes, r.payloadOffset);
    if (n !== r.payloadBytes) throw spoolError(`spool segment ${r.segment.path} is shorter than its index (read ${n} of ${r.payloadBytes} bytes)`);
    return buf;
  }

  /** The collector stored it (or knew it already): done, and its segment goes once all of it is done. */
  ack(r: SpoolRecord): void {
    this.finish(r);
  }

  /** The collector will never take it: done, and counted as dropped. */
  reject(r: SpoolRecord): void {
    if (r.done) return;
    this.finish(r);
    this.drop(1, r.flows);
  }

  private finish(r: SpoolRecord): void {
    if (r.done) return;
    r.done = true;
    this.pendingCount--;
    const seg = r.segment;
    if (--seg.pending === 0) {
      // All done: the file goes, even the active one (the next batch starts a new file), so that an
      // agent whose collector keeps up holds nothing on disk.
      if (seg === this.active) this.active = null;
      this.removeSegment(seg);
    }
    this.advance();
  }

  /** Moves acked_through up to just below the oldest record not done, and persists it. */
  private advance(): void {
    const first = this.next(this.ackedThrough);
    const through = first ? first.id - 1 : this.nextId - 1;
    if (through === this.ackedThrough) return;
    this.ackedThrough = through;
    this.writeState();
  }

  /**
   * For sources that can wait (a capture file): null while the spool has room, else a promise that
   * resolves once it is at most half full. Under drop_oldest there is always room.
   */
  gate(): Promise<void> | null {
    if (this.opts.fullPolicy !== 'block' || this.totalBytes <= this.opts.maxBytes * 0.75) return null;
    return new Promise((resolve) => this.gateWaiters.push(resolve));
  }

  private wakeGate(): void {
    if (this.gateWaiters.length === 0 || this.totalBytes > this.opts.maxBytes / 2) return;
    const waiters = this.gateWaiters;
    this.gateWaiters = [];
    for (const w of waiters) w();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeActive();
    for (const seg of this.segments) fs.closeSync(seg.fd);
    this.segments.length = 0;
    fs.closeSync(this.stateFd);
    fs.rmSync(this.lockPath, { force: true });
    const waiters = this.gateWaiters;
    this.gateWaiters = [];
    for (const w of waiters) w();
  }
}
