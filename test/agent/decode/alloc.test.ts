// decodeFrame allocates nothing, nor does inspectPayload when it finds nothing. Over the dev captures'
// frames (tunnels, ICMP errors, every link type) decoded again and again, not one garbage collection
// may run: 16 bytes per frame would fill the young generation several times over. One collection is
// tolerated, since finishing optimised code can allocate on the main thread (seen about once in five
// runs); a full collection first, so nothing left over from loading the captures runs in the window.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readCaptureFile } from '../../../agent/capture/file-source';
import { decodeFrame } from '../../../agent/decode/decode';
import { PacketMeta } from '../../../agent/decode/packet-meta';
import { inspectPayload } from '../../../agent/decode/app/inspect';
import type { AppNames } from '../../../agent/decode/app/app-names';

const DEV = join(__dirname, '../../../../shared/pcaps/dev');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs `work` after a full collection; returns how many collections ran during it. */
async function collectionsDuring(work: () => void): Promise<number> {
  gc();
  let gcs = 0;
  const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  work();
  await new Promise((resolve) => setTimeout(resolve, 100));   // the observer reports asynchronously
  obs.disconnect();
  return gcs;
}

t.test('decodeFrame: no garbage collection over 5 million frames', async (t) => {
  const chunks: Uint8Array[] = [];
  const index: number[] = [];
  let total = 0;
  for (const f of readdirSync(DEV).filter((n) => /\.(pcap|pcapng|cap)$/.test(n))) {
    try {
      await readCaptureFile(join(DEV, f), (linkType, buf, start, caplen) => {
        chunks.push(buf.slice(start, start + caplen));
        index.push(linkType, total, caplen);
        total += caplen;
      });
    } catch { /* files the reader refuses are covered elsewhere */ }
  }
  const all = new Uint8Array(total);
  for (let i = 0, at = 0; i < chunks.length; at += chunks[i].length, i++) all.set(chunks[i], at);
  chunks.length = 0;
  const frames = Int32Array.from(index);
  const n = frames.length / 3;
  const meta = new PacketMeta();
  const run = (rounds: number) => {
    let sink = 0;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < n; i++) {
        decodeFrame(frames[i * 3], all, frames[i * 3 + 1], frames[i * 3 + 2], meta);
        sink += meta.event;
      }
    }
    return sink;
  };
  run(20);   // warm up: let the optimising compiler finish

  const rounds = Math.ceil(5_000_000 / n);
  let before = 0;
  let after = 0;
  const gcs = await collectionsDuring(() => {
    before = process.memoryUsage().heapUsed;
    run(rounds);
    after = process.memoryUsage().heapUsed;
  });
  t.ok(gcs <= 1, `${gcs} GC while decoding ${rounds * n} frames`);
  t.ok(after - before < 1024 * 1024, `heap grew ${after - before} bytes (compiled code, not frames)`);
});

t.test('inspectPayload allocates nothing for payloads that name nothing', async (t) => {
  // Every payload of the dev captures on which inspectPayload finds nothing (TCP data segments,
  // encrypted records, unknown UDP…), copied out with their ports.
  const payloads: Array<{ protocol: number; sp: number; dp: number; bytes: Uint8Array }> = [];
  const meta = new PacketMeta();
  for (const f of readdirSync(DEV).filter((n) => /\.(pcap|pcapng|cap)$/.test(n))) {
    try {
      await readCaptureFile(join(DEV, f), (linkType, buf, start, caplen) => {
        decodeFrame(linkType, buf, start, caplen, meta);
        if (meta.capturedPayloadLen <= 0 || payloads.length >= 20000) return;
        if (inspectPayload(meta.protocol, meta.srcPort, meta.dstPort, buf, meta.payloadOffset, meta.capturedPayloadLen, {})) return;
        payloads.push({ protocol: meta.protocol, sp: meta.srcPort, dp: meta.dstPort,
          bytes: buf.slice(meta.payloadOffset, meta.payloadOffset + meta.capturedPayloadLen) });
      });
    } catch { /* refused files */ }
  }
  t.ok(payloads.length > 5000, `${payloads.length} payloads`);
  const out: AppNames = {};
  const run = (rounds: number) => {
    let n = 0;
    for (let r = 0; r < rounds; r++) {
      for (const p of payloads) if (inspectPayload(p.protocol, p.sp, p.dp, p.bytes, 0, p.bytes.length, out)) n++;
    }
    return n;
  };
  run(5);
  let found = -1;
  const gcs = await collectionsDuring(() => { found = run(Math.ceil(3_000_000 / payloads.length)); });
  t.equal(found, 0);
  t.same(out, {});
  t.ok(gcs <= 1, `${gcs} GC over 3 million calls`);
});
