// DNS tunnelling (MITRE ATT&CK T1071.004, Application Layer Protocol: DNS): data carried in query
// names under one domain the attacker controls. Three signs, per (agent, source, registered domain)
// within tumbling windows of `window_secs` of flow time:
//   - encoded names: DISTINCT names whose labels before the registered domain hold ≥
//     `min_label_chars` characters (dots not counted) with a Shannon entropy ≥
//     `min_entropy_bits_per_char` bits per character, and look machine-made: at least 10 % digits
//     (hex, base32 and base64 payloads all carry digits) or an entropy above 4.5 bits per character
//     (only large alphabets reach it; readable text stays near 4). Alert when ≥
//     `min_suspicious_queries` such names;
//   - TXT/NULL heavy: queries of type TXT (16) or NULL (10) with a non-empty subdomain, alert when ≥
//     `min_txt_null_queries`, counted per query (a flow's fwd packets: one socket may send many
//     queries, of which the agent keeps the first name);
//   - many unique subdomains: ≥ `max_unique_subdomains` distinct names (RITA's C2-over-DNS count).
// Reverse lookups (*.arpa) and mDNS/LLMNR names (*.local) are ignored. One alert (severity high,
// evidence: rule, counts, sample names); then the key is quiet for `suppress_secs`.
//
// Thresholds (detect.dns_tunnel): min_label_chars 30 characters; min_entropy_bits_per_char 3.3
// bits/char; min_suspicious_queries 5 queries; min_txt_null_queries 10 queries;
// max_unique_subdomains 100 names; window_secs 300 s; suppress_secs 1800 s; max_tracked_domains
// 100000 keys per agent (slot-table.ts: a key's state object is reused by the next key of its slot;
// registered domains are numbered through a map of as many). Fixed: at most max_unique_subdomains
// names remembered per key, 5 samples in evidence.
import type { DnsTunnelConfig } from '../config';
import type { FlowRow } from '../model';
import { BoundedMap, PerAgent } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { charsWithoutDots, digitShare, entropyBitsPerChar, registeredCut } from './dns-names';
import { FIRST_RECORD, FlowKeys, HAS_APP, SRC_INTERNED } from './flow-keys';
import { SlotStates } from './slot-table';

/** Entropy only a large alphabet (base64-like) reaches, bits per character. */
const HIGH_ENTROPY_BITS = 4.5;
const MIN_DIGIT_SHARE = 0.1;

/** Whether the subdomain part of `name` (its first `end` characters) looks machine-made. */
function looksEncoded(name: string, end: number, entropy: number, minChars: number, minEntropy: number): boolean {
  if (entropy < minEntropy || charsWithoutDots(name, end) < minChars) return false;
  return entropy >= HIGH_ENTROPY_BITS || digitShare(name, end) >= MIN_DIGIT_SHARE;
}

const QTYPE_NULL = 10;
const QTYPE_TXT = 16;

class DomainState {
  domain = '';
  startUs = 0;
  encoded = 0;
  txtNull = 0;
  /** distinct names seen (at most max_unique_subdomains): the first in `firstName`, all of them in
   * `names` from the second on — most keys see one name, and they then make no Set */
  distinct = 0;
  firstName = '';
  names: Set<string> | undefined;
  namesStale = false;
  readonly samples: string[] = [];
  nSamples = 0;
  maxEntropy = 0;
  readonly ev = new FlowEvidence();
  quietUntilUs = -Infinity;

  reset(startUs: number): void {
    this.startUs = startUs;
    this.encoded = 0;
    this.txtNull = 0;
    this.distinct = 0;
    this.namesStale = true;
    this.nSamples = 0;
    this.maxEntropy = 0;
    this.ev.clear();
  }

  has(name: string): boolean {
    if (this.distinct === 0) return false;
    if (this.distinct === 1) return name === this.firstName;
    return this.names !== undefined && this.names.has(name);
  }

  /** Adds a name `has` said is new. */
  addName(name: string): void {
    if (this.distinct === 0) this.firstName = name;
    else {
      if (this.names === undefined) this.names = new Set();
      else if (this.namesStale) this.names.clear();
      if (this.distinct === 1 || this.namesStale) this.names.add(this.firstName);
      this.namesStale = false;
      this.names.add(name);
    }
    this.distinct++;
  }
}

export class DnsTunnelDetector implements Detector {
  readonly name = 'dns_tunnel';
  /** per agent, keyed by (source id, registered domain id, source kind) */
  private readonly keys: PerAgent<SlotStates<DomainState>>;
  /** registered domain → id; ids are never reused, so a forgotten domain comes back as a new key */
  private readonly domainIds: BoundedMap<string, number>;
  private nextDomainId = 0;

  constructor(private readonly opts: DnsTunnelConfig) {
    this.keys = new PerAgent(() => new SlotStates(opts.max_tracked_domains, () => new DomainState()));
    this.domainIds = new BoundedMap(opts.max_tracked_domains);
  }

  evictions(): number {
    return this.keys.sum((s) => s.table.evicted);
  }

  /** the batch's DNS flows (reused): flow index, registered domain id and cut, and the domain */
  private dnsFlows = new Int32Array(1024);
  private dnsDomainIds = new Int32Array(1024);
  private dnsCuts = new Int32Array(1024);
  private readonly dnsDomains: string[] = [];

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const o = this.opts;
    const ids = FlowKeys.of(flows, batchKeys);
    const m = this.domainsOf(flows, ids);
    if (ids.agent !== undefined) this.prefetch(ids, m);
    for (let j = 0; j < m; j++) {
      const i = this.dnsFlows[j];
      const domainId = this.dnsDomainIds[j];
      const cut = this.dnsCuts[j];
      const f = flows[i];
      const app = f.app as Record<string, unknown>;
      const q = app.dns_query as string;
      const states = this.keys.of(f.agentId);
      const srcKind = ids.kinds[i] & SRC_INTERNED;
      let st = states.get(ids.srcId[i], domainId, srcKind);
      if (!st) {
        st = states.add(ids.srcId[i], domainId, srcKind);
        st.domain = this.dnsDomains[j];
        st.quietUntilUs = -Infinity;
        st.reset(f.firstUs);
      }
      if (f.firstUs < st.quietUntilUs) continue;
      if (f.firstUs - st.startUs > o.window_secs * 1e6) st.reset(f.firstUs);
      const queries = Math.max(1, f.fwd.packets);
      // within one key the registered domain is the same, so distinct names are distinct subdomains
      const isNew = !st.has(q);
      // a name seen in this window already counted in maxEntropy: its entropy is not computed again
      const entropy = isNew ? entropyBitsPerChar(q, cut) : 0;
      const encoded = isNew && looksEncoded(q, cut, entropy, o.min_label_chars, o.min_entropy_bits_per_char);
      const qtype = app.dns_qtype;
      const txtNull = qtype === QTYPE_TXT || qtype === QTYPE_NULL;
      if (encoded) st.encoded++;
      if (txtNull) st.txtNull += queries;
      if (isNew && st.distinct < o.max_unique_subdomains) st.addName(q);
      if (encoded || txtNull || st.nSamples < 5) {
        if (st.nSamples < 5) st.samples[st.nSamples++] = q;
        st.ev.add(f);
      }
      if (entropy > st.maxEntropy) st.maxEntropy = entropy;
      let rule: string | undefined;
      let score = 0;
      let threshold = 0;
      if (st.encoded >= o.min_suspicious_queries) [rule, score, threshold] = ['encoded_names', st.encoded, o.min_suspicious_queries];
      else if (st.txtNull >= o.min_txt_null_queries) [rule, score, threshold] = ['txt_null_queries', st.txtNull, o.min_txt_null_queries];
      else if (st.distinct >= o.max_unique_subdomains) [rule, score, threshold] = ['unique_subdomains', st.distinct, o.max_unique_subdomains];
      if (!rule) continue;
      emit(alertFrom({
        category: 'dns_tunnel', severity: 'high', attack_id: 'T1071.004', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: f.dstIp,
        dst_port: f.dstPort, score, threshold,
        evidence: {
          rule, domain: st.domain, encoded_queries: st.encoded, txt_null_queries: st.txtNull, unique_subdomains: st.distinct,
          max_entropy_bits_per_char: Math.round(st.maxEntropy * 100) / 100, sample_names: st.samples.slice(0, st.nSamples), window_secs: o.window_secs,
        },
      }, st.ev));
      st.quietUntilUs = f.firstUs + o.suppress_secs * 1e6;
      st.reset(f.firstUs);
    }
  }

  /** Finds the batch's DNS queries that count (first records, not reverse or mDNS names, under a
   * registered domain) and numbers their registered domains; returns how many. */
  private domainsOf(flows: readonly FlowRow[], ids: FlowKeys): number {
    const traits = ids.traits;
    if (this.dnsFlows.length < flows.length) {
      this.dnsFlows = new Int32Array(flows.length);
      this.dnsDomainIds = new Int32Array(flows.length);
      this.dnsCuts = new Int32Array(flows.length);
    }
    let m = 0;
    for (let i = 0; i < flows.length; i++) {
      if ((traits[i] & (HAS_APP | FIRST_RECORD)) !== (HAS_APP | FIRST_RECORD)) continue;
      const app = flows[i].app;
      if (!app) continue;
      const q = app.dns_query;
      if (typeof q !== 'string' || q.endsWith('.arpa') || q.endsWith('.local')) continue;
      const cut = registeredCut(q);
      if (cut <= 0) continue;
      const domain = q.slice(cut + 1);
      let domainId = this.domainIds.get(domain);
      if (domainId === undefined) {
        domainId = this.nextDomainId;
        this.nextDomainId = (this.nextDomainId + 1) | 0;
        this.domainIds.set(domain, domainId);
      }
      this.dnsFlows[m] = i;
      this.dnsDomainIds[m] = domainId;
      this.dnsCuts[m] = cut;
      this.dnsDomains[m] = domain;
      m++;
    }
    return m;
  }

  /** A pass that only reads the index entries of the batch's keys, so that their cache misses
   * overlap (see exfiltration.ts's prefetch). */
  private prefetch(ids: FlowKeys, m: number): void {
    const table = this.keys.of(ids.agent as string).table;
    let sum = 0;
    for (let j = 0; j < m; j++) {
      const i = this.dnsFlows[j];
      sum += table.touch3(ids.srcId[i], this.dnsDomainIds[j], ids.kinds[i] & SRC_INTERNED);
    }
    this.prefetched = sum;
  }

  /** what the prefetch pass read, kept so that its reads are not optimised away */
  prefetched = 0;

}
