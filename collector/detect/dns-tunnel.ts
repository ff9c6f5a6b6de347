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
// 100000 (bounded-map.ts). Fixed: at most max_unique_subdomains names remembered per key, 5 samples in evidence.
import type { DnsTunnelConfig } from '../config';
import type { FlowRow } from '../model';
import { BoundedMap } from './bounded-map';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { charsWithoutDots, digitShare, entropyBitsPerChar, splitRegistered } from './dns-names';

/** Entropy only a large alphabet (base64-like) reaches, bits per character. */
const HIGH_ENTROPY_BITS = 4.5;
const MIN_DIGIT_SHARE = 0.1;

function looksEncoded(sub: string, entropy: number, minChars: number, minEntropy: number): boolean {
  if (entropy < minEntropy || charsWithoutDots(sub) < minChars) return false;
  return entropy >= HIGH_ENTROPY_BITS || digitShare(sub) >= MIN_DIGIT_SHARE;
}

const QTYPE_NULL = 10;
const QTYPE_TXT = 16;

interface DomainState {
  startUs: number;
  encoded: number;
  txtNull: number;
  subdomains: Set<string>;
  samples: string[];
  maxEntropy: number;
  ev: FlowEvidence;
  quietUntilUs: number;
}

export class DnsTunnelDetector implements Detector {
  readonly name = 'dns_tunnel';
  private readonly domains: BoundedMap<string, DomainState>;

  constructor(private readonly opts: DnsTunnelConfig) {
    this.domains = new BoundedMap(opts.max_tracked_domains);
  }

  onFlows(flows: readonly FlowRow[], emit: EmitAlert): void {
    const o = this.opts;
    for (const f of flows) {
      const q = f.app?.dns_query;
      if (typeof q !== 'string' || f.recordSeq !== 0 || q.endsWith('.arpa') || q.endsWith('.local')) continue;
      const [sub, domain] = splitRegistered(q);
      if (sub === '') continue;
      const key = `${f.agentId}\u0000${f.srcIp}\u0000${domain}`;
      let st = this.domains.get(key);
      if (!st) {
        st = { startUs: f.firstUs, encoded: 0, txtNull: 0, subdomains: new Set(), samples: [], maxEntropy: 0, ev: new FlowEvidence(), quietUntilUs: -Infinity };
        this.domains.set(key, st);
      }
      if (f.firstUs < st.quietUntilUs) continue;
      if (f.firstUs - st.startUs > o.window_secs * 1e6) this.reset(st, f.firstUs);
      const queries = Math.max(1, f.fwd.packets);
      const entropy = entropyBitsPerChar(sub);
      const isNew = !st.subdomains.has(sub);
      const encoded = isNew && looksEncoded(sub, entropy, o.min_label_chars, o.min_entropy_bits_per_char);
      const qtype = f.app?.dns_qtype;
      const txtNull = qtype === QTYPE_TXT || qtype === QTYPE_NULL;
      if (encoded) st.encoded++;
      if (txtNull) st.txtNull += queries;
      if (st.subdomains.size < o.max_unique_subdomains) st.subdomains.add(sub);
      if (encoded || txtNull || st.samples.length < 5) {
        if (st.samples.length < 5) st.samples.push(q);
        st.ev.add(f);
      }
      if (entropy > st.maxEntropy) st.maxEntropy = entropy;
      let rule: string | undefined;
      let score = 0;
      let threshold = 0;
      if (st.encoded >= o.min_suspicious_queries) [rule, score, threshold] = ['encoded_names', st.encoded, o.min_suspicious_queries];
      else if (st.txtNull >= o.min_txt_null_queries) [rule, score, threshold] = ['txt_null_queries', st.txtNull, o.min_txt_null_queries];
      else if (st.subdomains.size >= o.max_unique_subdomains) [rule, score, threshold] = ['unique_subdomains', st.subdomains.size, o.max_unique_subdomains];
      if (!rule) continue;
      emit(alertFrom({
        category: 'dns_tunnel', severity: 'high', attack_id: 'T1071.004', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: f.dstIp,
        dst_port: f.dstPort, score, threshold,
        evidence: {
          rule, domain, encoded_queries: st.encoded, txt_null_queries: st.txtNull, unique_subdomains: st.subdomains.size,
          max_entropy_bits_per_char: Math.round(st.maxEntropy * 100) / 100, sample_names: st.samples.slice(), window_secs: o.window_secs,
        },
      }, st.ev));
      st.quietUntilUs = f.firstUs + o.suppress_secs * 1e6;
      this.reset(st, f.firstUs);
    }
  }

  private reset(st: DomainState, startUs: number): void {
    st.startUs = startUs;
    st.encoded = 0;
    st.txtNull = 0;
    st.subdomains.clear();
    st.samples.length = 0;
    st.maxEntropy = 0;
    st.ev.clear();
  }
}
