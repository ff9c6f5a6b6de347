// Walks the audit chain from seq 1 and names the first link that does not hold:
//   - seq not the previous + 1 (an entry removed or inserted),
//   - prev_hash not the previous entry's hash,
//   - hash not sha256(prev_hash || canonical entry) (the entry itself was edited),
//   - payload not valid JSON,
// and, for 'alert' entries, that the alerts table still holds the alert as it was recorded (an edited
// or deleted alert row is named too). Truncating the newest entries cannot be seen from the chain
// alone; an operator who keeps the last hash printed by `audit verify` elsewhere can compare it.
import { alertToJson } from '../model';
import type { Store } from '../store';
import { canonicalJson } from './canonical';
import { entryHash, GENESIS_HASH } from './chain';

export interface VerifyResult {
  ok: boolean;
  /** entries checked */
  entries: number;
  /** hash of the last entry checked (GENESIS_HASH for an empty chain) */
  lastHash: string;
  /** the first broken link, when !ok */
  broken?: { seq: number; reason: string };
}

const PAGE = 1000;

/** Where to start: the whole chain, or after a link already verified (`seq`, its `hash`, entries so far). */
export interface VerifyCheckpoint {
  seq: number;
  hash: string;
  entries: number;
}

export async function verifyChain(store: Store, from: VerifyCheckpoint = { seq: 0, hash: GENESIS_HASH, entries: 0 }): Promise<VerifyResult & { checkpoint: VerifyCheckpoint }> {
  let prevSeq = from.seq;
  let prevHash = from.hash;
  let entries = from.entries;
  const checkpoint = (): VerifyCheckpoint => ({ seq: prevSeq, hash: prevHash, entries });
  const fail = (seq: number, reason: string): VerifyResult & { checkpoint: VerifyCheckpoint } => ({
    ok: false, entries, lastHash: prevHash, broken: { seq, reason }, checkpoint: checkpoint(),
  });
  for (;;) {
    const page = await store.auditEntries(prevSeq, PAGE);
    if (page.length === 0) return { ok: true, entries, lastHash: prevHash, checkpoint: checkpoint() };
    for (const e of page) {
      if (e.seq !== prevSeq + 1) return fail(prevSeq + 1, `entry ${prevSeq + 1} is missing (next stored entry is ${e.seq})`);
      if (e.prevHash !== prevHash) return fail(e.seq, `prev_hash ${e.prevHash} is not the hash of entry ${prevSeq} (${prevHash})`);
      let payload: unknown;
      try {
        payload = JSON.parse(e.payloadJson);
      } catch {
        return fail(e.seq, 'payload is not valid JSON');
      }
      const want = entryHash(e.prevHash, e.seq, e.ts, e.kind, payload);
      if (want !== e.hash) return fail(e.seq, `hash does not match the entry's content (stored ${e.hash}, computed ${want})`);
      if (e.kind === 'alert') {
        const id = (payload as { id?: unknown }).id;
        const alert = typeof id === 'number' ? await store.alertById(id) : undefined;
        if (!alert) return fail(e.seq, `alert ${String(id)} recorded here is missing from the alerts table`);
        if (canonicalJson(alertToJson(alert)) !== canonicalJson(payload)) {
          return fail(e.seq, `alert ${id} in the alerts table differs from the one recorded here`);
        }
      }
      prevSeq = e.seq;
      prevHash = e.hash;
      entries++;
    }
  }
}
