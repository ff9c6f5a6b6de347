// The tamper-evident history: an append-only hash chain in the store (table audit_chain).
//
//   entry   = { seq, ts, kind, payload }          seq = 1, 2, 3, ... without gaps
//   hash    = sha256_hex( prev_hash || canonicalJson(entry) )   (prev_hash as its 64 hex characters)
//   prev_hash of seq 1 = GENESIS (64 zeros)
//
// Changing, inserting or removing any entry changes every hash after it, so `verifyChain` (verify.ts)
// names the first link that no longer holds. What goes in: every stored alert (kind 'alert', payload =
// the alert's JSON contract), a config that differs from the last one recorded ('config_loaded', its
// sha256), and administrative actions (enrolments, revocations: `recordAdminAction`).
//
// Appends are serialised through one promise chain, so entries from concurrent callers get consecutive
// seqs. One collector process owns a store's chain; a second writer would collide on the seq primary
// key and its append would fail (counted), never fork the chain silently.
import { createHash } from 'node:crypto';
import { errorMessage } from '../errors';
import type { Counter, Logger, Registry } from '../obs';
import type { AuditEntry, Store } from '../store';
import { canonicalJson } from './canonical';

export const GENESIS_HASH = '0'.repeat(64);

export function entryHash(prevHash: string, seq: number, ts: number, kind: string, payload: unknown): string {
  return createHash('sha256').update(prevHash, 'utf8').update(canonicalJson({ seq, ts, kind, payload }), 'utf8').digest('hex');
}

/** Appends tried before giving up when other writers keep taking the next seq. */
const MAX_APPEND_ATTEMPTS = 20;

export class AuditLog {
  private tail: Promise<AuditEntry | undefined>;
  private readonly appended: Counter;
  private readonly failures: Counter;

  constructor(
    private readonly store: Store,
    metrics: Registry,
    private readonly log: Logger,
    private readonly nowSecs: () => number = () => Date.now() / 1000,
  ) {
    this.tail = store.lastAudit();
    this.appended = metrics.counter('audit_entries_total', 'Entries appended to the audit hash chain, by kind.');
    this.failures = metrics.counter('audit_failures_total', 'Audit entries that could not be appended (logged).');
  }

  /** Appends one entry; resolves with it, or undefined when the store refused (logged, counted). */
  append(kind: string, payload: unknown): Promise<AuditEntry | undefined> {
    const next = this.tail.then(async (last) => {
      for (let attempt = 1; ; attempt++) {
        const prevHash = last?.hash ?? GENESIS_HASH;
        const seq = (last?.seq ?? 0) + 1;
        const ts = this.nowSecs();
        const entry: AuditEntry = { seq, ts, kind, payloadJson: canonicalJson(payload), prevHash, hash: entryHash(prevHash, seq, ts, kind, payload) };
        try {
          await this.store.appendAudit(entry);
        } catch (err) {
          // Another process on the same store (an `enrol create` or `agents revoke` beside the running
          // collector, or the other collectors of a cluster on one PostgreSQL) may have taken the seq:
          // link to the entry now last instead. Under contention that can take a few rounds.
          if (attempt >= MAX_APPEND_ATTEMPTS) throw err;
          const newer = await this.store.lastAudit();
          if (newer?.seq === last?.seq) throw err; // not a taken seq: the store refused for another reason
          last = newer;
          continue;
        }
        this.appended.inc({ kind });
        return entry;
      }
    });
    // A failed append leaves the tail where it was: the next entry links to the last one stored.
    const previous = this.tail;
    this.tail = next.catch(async (err) => {
      this.failures.inc();
      this.log.error('cannot append audit entry', { kind, err: errorMessage(err) });
      return previous;
    });
    return next.catch(() => undefined);
  }

  /** An administrative action (agent enrolled or revoked, token rotated...): kind is prefixed `admin.`. */
  recordAdminAction(kind: string, details: Record<string, unknown>): Promise<AuditEntry | undefined> {
    return this.append(`admin.${kind}`, details);
  }

  /**
   * Records the loaded config when its hash differs from the last one recorded (the first start, or an
   * edit between two starts). Resolves true when an entry was appended.
   */
  async recordConfig(config: unknown): Promise<boolean> {
    const sha256 = createHash('sha256').update(canonicalJson(config), 'utf8').digest('hex');
    await this.tail;
    const last = await this.store.lastAudit('config_loaded');
    if (last && (JSON.parse(last.payloadJson) as { sha256?: string }).sha256 === sha256) return false;
    return (await this.append('config_loaded', { sha256, previous_sha256: last ? (JSON.parse(last.payloadJson) as { sha256?: string }).sha256 ?? null : null })) !== undefined;
  }

  /** Waits for every append started so far. */
  async flush(): Promise<void> {
    await this.tail;
  }
}
