// Threat intelligence matches (MITRE ATT&CK T1071, Application Layer Protocol — contact with known
// bad infrastructure): every flow's addresses, the names the agent saw (DNS query and answers, TLS
// SNI, HTTP Host) and its JA4 TLS client fingerprint, against the indicators the loader holds
// (intel/loader.ts: plain lists and STIX 2.1, files or URLs, reloaded without restart).
// One alert per (agent, source address, indicator) per `suppress_secs` of flow time
// (severity high; score 1, threshold 1; evidence: what matched, where, the source list and the
// STIX id/name). Remembered keys: at most MAX_KEYS (LRU).
import { LRUCache } from 'lru-cache';
import type { ThreatIntelConfig } from '../config';
import type { FlowRow } from '../model';
import type { Detector, EmitAlert } from './detector';
import { alertFrom, FlowEvidence } from './evidence';
import { FlowKeys, HAS_APP, type AddrKey } from './flow-keys';
import type { IndicatorMeta, IndicatorSet } from './intel/indicators';

const MAX_KEYS = 100_000;

export class ThreatIntelDetector implements Detector {
  readonly name = 'threat_intel';
  private readonly lastAlertUs = new LRUCache<string, number>({ max: MAX_KEYS });

  /** `indicators` is called per batch: the loader may have swapped in a new set. */
  constructor(private readonly opts: ThreatIntelConfig, private readonly indicators: () => IndicatorSet) {}

  onFlows(flows: readonly FlowRow[], emit: EmitAlert, batchKeys?: FlowKeys): void {
    const set = this.indicators();
    if (set.size === 0) return;
    const { src, dst, traits } = FlowKeys.of(flows, batchKeys);
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      const m = match(set, f, src[i], dst[i], (traits[i] & HAS_APP) !== 0);
      if (!m) continue;
      const [meta, field, observed] = m;
      const key = `${f.agentId}\u0000${f.srcIp}\u0000${meta.kind}\u0000${meta.value}`;
      const last = this.lastAlertUs.get(key);
      if (last !== undefined && f.firstUs < last + this.opts.suppress_secs * 1e6 && f.firstUs >= last) continue;
      this.lastAlertUs.set(key, f.firstUs);
      const ev = new FlowEvidence();
      ev.add(f);
      emit(alertFrom({
        category: 'threat_intel', severity: 'high', attack_id: 'T1071', agent_id: f.agentId, src_ip: f.srcIp, dst_ip: f.dstIp,
        dst_port: f.dstPort, score: 1, threshold: 1,
        evidence: {
          matched_field: field, observed, indicator: meta.value, indicator_kind: meta.kind, intel_source: meta.source,
          stix_id: meta.stix_id ?? null, indicator_name: meta.name ?? null,
        },
      }, ev));
    }
  }
}

/** The first indicator the flow matches: [indicator, field, observed value], or undefined. */
function match(set: IndicatorSet, f: FlowRow, src: AddrKey, dst: AddrKey, hasApp: boolean): [IndicatorMeta, string, string] | undefined {
  let m = typeof dst === 'number' ? set.matchIpV4(dst) : set.matchIp(dst);
  if (m) return [m, 'dst_ip', f.dstIp];
  if ((m = typeof src === 'number' ? set.matchIpV4(src) : set.matchIp(src))) return [m, 'src_ip', f.srcIp];
  if (!hasApp) return undefined;
  const app = f.app;
  if (!app) return undefined;
  // each field read by name: one inline cache per read, not a keyed lookup per field
  const sni = app.tls_sni;
  if (typeof sni === 'string' && (m = set.matchDomain(sni))) return [m, 'tls_sni', sni];
  const host = app.http_host;
  if (typeof host === 'string' && (m = set.matchDomain(host))) return [m, 'http_host', host];
  const query = app.dns_query;
  if (typeof query === 'string' && (m = set.matchDomain(query))) return [m, 'dns_query', query];
  const ja4 = app.ja4;
  if (typeof ja4 === 'string' && (m = set.matchJa4(ja4))) return [m, 'ja4', ja4];
  const answers = app.dns_answers;
  if (Array.isArray(answers)) {
    for (const a of answers) {
      if (typeof a !== 'string') continue;
      m = a.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(a) ? set.matchIp(a) : set.matchDomain(a);
      if (m) return [m, 'dns_answers', a];
    }
  }
  return undefined;
}
