// The disk spool on real files: records survive a reopen, torn and corrupt tails are cut and counted,
// segments go only once acknowledged, the byte bound holds under both full policies, and the drop
// counters survive restarts.
import t, { type Test } from 'tap';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, type SpoolOptions } from '../../../agent/transport/spool';
import { AgentErrorCode } from '../../../agent/errors';

function dirFor(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'gk-spool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string, more: Partial<SpoolOptions> = {}): Spool {
  return Spool.open({ dir, maxBytes: 1024 * 1024, segmentBytes: 16 * 1024, fullPolicy: 'block', ...more });
}

/** A payload whose bytes say which batch it is. */
function payload(seq: number, bytes = 1000): Buffer {
  return Buffer.alloc(bytes, seq % 251);
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('seg-')).sort();
}

/** Every pending record: [bootId, seq, flows, payload intact]. */
function pending(s: Spool): Array<[string, number, number, boolean]> {
  const out: Array<[string, number, number, boolean]> = [];
  for (let r = s.next(0); r; r = s.next(r.id)) {
    out.push([r.bootId, r.seq, r.flows, s.read(r).equals(payload(r.seq, r.payloadBytes))]);
  }
  return out;
}

t.test('records survive a reopen with boot id, seq, flows and payload; acked ones do not come back', async (t) => {
  const dir = dirFor(t);
  let s = open(dir);
  for (let seq = 1; seq <= 40; seq++) t.ok(s.append(seq, 'boot-A', seq * 2, payload(seq)));
  t.ok(segments(dir).length >= 2, 'several segments');
  for (let id = 1; id <= 10; id++) s.ack(s.next(id - 1)!);
  s.close();
  s = open(dir);
  t.equal(s.pendingBatches, 30);
  t.equal(s.counters.batchesRecovered, 30);
  const p = pending(s);
  t.same(p[0], ['boot-A', 11, 22, true]);
  t.same(p.at(-1), ['boot-A', 40, 80, true]);
  t.ok(p.every((r) => r[3]), 'every payload intact');
  // New records continue the ids; an old boot and a new one live side by side.
  t.ok(s.append(1, 'boot-B', 1, payload(1)));
  t.same(pending(s).at(-1), ['boot-B', 1, 1, true]);
  t.equal(s.next(40)?.bootId, 'boot-B', 'ids go on from the last one on disk');
  s.close();
});

t.test('a segment is deleted once all its records are acknowledged, not before', async (t) => {
  const dir = dirFor(t);
  const s = open(dir);
  t.teardown(() => s.close());
  for (let seq = 1; seq <= 30; seq++) s.append(seq, 'b', 1, payload(seq));
  const first = segments(dir)[0];
  const firstIds = [];
  for (let r = s.next(0); r && r.segment === s.next(0)!.segment; r = s.next(r.id)) firstIds.push(r.id);
  for (const id of firstIds.slice(0, -1)) s.ack(s.next(id - 1)!);
  t.ok(segments(dir).includes(first), 'one record left unacknowledged: the segment stays');
  s.ack(s.next(firstIds.at(-1)! - 1)!);
  t.notOk(segments(dir).includes(first), 'all acknowledged: the segment is gone');
  // Out of order: a later ack before an earlier one still frees by segment, and nothing is lost.
  s.ack(s.next(29)!);
  t.equal(s.pendingBatches, 30 - firstIds.length - 1);
});

t.test('torn tail (power cut mid-write) is cut at open, counted, and the spool goes on', async (t) => {
  const dir = dirFor(t);
  let s = open(dir, { segmentBytes: 1024 * 1024 });
  for (let seq = 1; seq <= 5; seq++) s.append(seq, 'boot-A', 1, payload(seq));
  s.close();
  const [seg] = segments(dir);
  const path = join(dir, seg);
  const size = statSync(path).size;
  truncateSync(path, size - 300); // the last record lost its end
  s = open(dir, { segmentBytes: 1024 * 1024 });
  t.equal(s.counters.tornTails, 1, 'torn tail counted');
  t.same(pending(s).map((r) => r[1]), [1, 2, 3, 4], 'the whole records before it are kept');
  t.equal(statSync(path).size, size - 300 - (1000 + 32 + 6 - 300), 'file cut back to the last whole record');
  t.ok(s.append(6, 'boot-A', 1, payload(6)), 'appends go on');
  s.close();
  s = open(dir, { segmentBytes: 1024 * 1024 });
  t.same(pending(s).map((r) => r[1]), [1, 2, 3, 4, 6]);
  t.equal(s.counters.tornTails, 1, 'the counter is kept over restarts');
  s.close();
});

t.test('zeros where the file system extended the file, and garbage after a record, are cut too', async (t) => {
  const dir = dirFor(t);
  let s = open(dir, { segmentBytes: 1024 * 1024 });
  for (let seq = 1; seq <= 3; seq++) s.append(seq, 'b', 1, payload(seq));
  s.close();
  const path = join(dir, segments(dir)[0]);
  appendFileSync(path, Buffer.alloc(4096));
  s = open(dir, { segmentBytes: 1024 * 1024 });
  t.same(pending(s).map((r) => r[1]), [1, 2, 3]);
  t.equal(s.counters.tornTails, 1);
  t.equal(s.counters.bytesCut, 4096);
  s.close();
});

t.test('a flipped bit in a record fails its checksum: that record and the rest of its segment are cut', async (t) => {
  const dir = dirFor(t);
  let s = open(dir, { segmentBytes: 1024 * 1024 });
  for (let seq = 1; seq <= 6; seq++) s.append(seq, 'b', 1, payload(seq));
  s.close();
  const path = join(dir, segments(dir)[0]);
  const buf = readFileSync(path);
  const recordBytes = 32 + 1 + 1000;
  buf[16 + 3 * recordBytes + 500] ^= 0x10; // inside the payload of the 4th record
  writeFileSync(path, buf);
  s = open(dir, { segmentBytes: 1024 * 1024 });
  t.same(pending(s).map((r) => r[1]), [1, 2, 3]);
  t.equal(s.counters.tornTails, 1);
  t.equal(s.counters.bytesCut, 3 * recordBytes);
  s.close();
});

t.test('a segment file with a bad header, and a corrupt state file, are not fatal', async (t) => {
  const dir = dirFor(t);
  let s = open(dir);
  s.append(1, 'b', 1, payload(1));
  s.close();
  writeFileSync(join(dir, 'seg-0000000000000099.gks'), 'not a segment');
  writeFileSync(join(dir, 'state'), Buffer.alloc(128, 0xff));
  s = open(dir);
  t.same(pending(s).map((r) => r[1]), [1], 'the good segment is read; a lost state means nothing is taken as acked');
  t.notOk(segments(dir).includes('seg-0000000000000099.gks'), 'the bad one is removed');
  s.close();
});

t.test('block: past max_bytes a new batch is refused and counted; gate() waits until half is free', async (t) => {
  const dir = dirFor(t);
  const s = open(dir, { maxBytes: 64 * 1024, segmentBytes: 16 * 1024 });
  t.teardown(() => s.close());
  let accepted = 0;
  for (let seq = 1; seq <= 100; seq++) if (s.append(seq, 'b', 3, payload(seq))) accepted++;
  t.ok(s.bytes <= 64 * 1024, `bytes ${s.bytes} within max_bytes`);
  t.equal(s.counters.batchesDropped, 100 - accepted);
  t.equal(s.counters.flowsDropped, 3 * (100 - accepted));
  t.same(pending(s)[0].slice(0, 2), ['b', 1], 'the oldest are kept under block');
  const gate = s.gate();
  t.ok(gate, 'gate closed while full');
  let opened = false;
  void gate!.then(() => { opened = true; });
  for (let id = 1; id <= accepted / 2 + 16; id++) s.ack(s.next(id - 1)!);
  await new Promise((r) => setImmediate(r));
  t.ok(opened, 'gate opened once acks freed half');
});

t.test('drop_oldest: the oldest segment goes, except one with a batch sent and not answered; drops counted across restarts', async (t) => {
  const dir = dirFor(t);
  let s = open(dir, { maxBytes: 64 * 1024, segmentBytes: 16 * 1024, fullPolicy: 'drop_oldest' });
  s.append(1, 'b', 2, payload(1));
  s.next(0)!.sent = true; // sent, not answered: it may be stored already, so its segment must stay
  for (let seq = 2; seq <= 200; seq++) t.ok(s.append(seq, 'b', 2, payload(seq)), `batch ${seq} taken`);
  t.ok(s.bytes <= 64 * 1024);
  const kept = pending(s).map((r) => r[1]);
  t.equal(kept[0], 1, 'the sent batch survived');
  t.equal(kept.at(-1), 200, 'the newest are kept');
  t.equal(s.counters.batchesDropped + kept.length, 200, 'every batch is kept or counted');
  t.equal(s.counters.flowsDropped, 2 * s.counters.batchesDropped);
  // A batch larger than the whole spool is refused alone: it does not evict what is there.
  t.notOk(s.append(201, 'b', 9, payload(201, 70 * 1024)), 'a batch larger than max_bytes is refused');
  t.same(pending(s).map((r) => r[1]), kept, 'nothing evicted for it');
  t.equal(s.counters.flowsDropped, 2 * (s.counters.batchesDropped - 1) + 9, 'and counted');
  const dropped = s.counters.batchesDropped;
  s.close();
  s = open(dir, { maxBytes: 64 * 1024, segmentBytes: 16 * 1024, fullPolicy: 'drop_oldest' });
  t.equal(s.counters.batchesDropped, dropped, 'drop counter persisted');
  t.same(pending(s).map((r) => r[1]), kept);
  s.close();
});

t.test('one process per spool directory', async (t) => {
  const dir = dirFor(t);
  const s = open(dir);
  t.teardown(() => s.close());
  t.throws(() => open(dir), { code: AgentErrorCode.SPOOL_LOCKED });
  // A lock left by a dead process (kill -9) is taken over.
  s.close();
  writeFileSync(join(dir, 'lock'), '999999999');
  const again = open(dir);
  again.close();
  t.pass('stale lock taken over');
});
