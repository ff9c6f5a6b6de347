import t from 'tap';
import Database from 'better-sqlite3';
import type { Store } from '../../collector/store';
import { AckStatus, ErrorCode } from '../../proto';
import { TestAgent, batchFrame, fetchText, metricValue, scanFlows, startTestCollector } from './helpers';

t.test('a store failure → Error STORE_FAILED with the seq and no ack; the resend is stored', async (t) => {
  let failNext = true;
  // Every other method goes through to the real store (prototype delegation).
  const wrapStore = (s: Store): Store => {
    const w = Object.create(s) as Store;
    w.putBatch = async (b) => {
      if (failNext) {
        failNext = false;
        throw new Error('disk full');
      }
      return s.putBatch(b);
    };
    return w;
  };
  const c = await startTestCollector(t, { start: { wrapStore } });
  const a = await TestAgent.ready(c.port, 'gw1');
  const frame = batchFrame(3, scanFlows(5));
  a.send(frame);
  const e = await a.next();
  t.equal(e.error?.code, ErrorCode.ERROR_CODE_STORE_FAILED);
  t.equal(e.error?.seq, 3);
  t.match(e.error?.message, /disk full/);
  t.equal(c.alerts.length, 0, 'no detection on a batch that was not stored');
  a.send(frame);
  const ack = await a.next();
  t.equal(ack.ack?.status, AckStatus.ACK_STATUS_STORED);
  t.equal(c.alerts.length, 1, 'detection ran once the batch was stored');
  const db = new Database(c.dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.equal((db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n, 5);
  const m = await fetchText(`http://127.0.0.1:${c.port}/metrics`);
  t.equal(metricValue(m.body, 'store_failures_total'), 1);
  a.close();
});

t.test('many batches on one connection are answered in order', async (t) => {
  const c = await startTestCollector(t, { extra: { store: { synchronous: 'normal' } } });
  const a = await TestAgent.ready(c.port, 'gw1');
  for (let seq = 1; seq <= 50; seq++) a.send(batchFrame(seq, scanFlows(3, { basePort: seq * 10, src: `10.1.0.${seq}` })));
  const seqs: number[] = [];
  for (let i = 0; i < 50; i++) seqs.push(Number((await a.next()).ack?.seq));
  t.same(seqs, Array.from({ length: 50 }, (_, i) => i + 1));
  a.close();
});
