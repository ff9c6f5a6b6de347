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
import type { IndicatorMeta, IndicatorSet } from './intel/indicators';

const MAX_KEYS = 100_000;

export class ThreatIntelDetector implements Detector {
  readonly name = 'threat_intel';
  private readonly lastAlertUs = new LRUCache<string, number>({ max: MAX_KEYS });

  /** `indicators` is called per batch: the loader may have swapped in a new set. */
  constructor(private readonly opts: ThreatIntelConfig, private readonly indicators: () => IndicatorSet) {}

  onFlows(flows: readonly FlowRow[], emit: EmitAlert): void {
    const set = this.indicators();
    if (set.size === 0) return;
    for (const f of flows) {
      let hit: IndicatorMeta | undefined;
      let field = '';
      let observed = '';
      const check = (m: IndicatorMeta | undefined, where: string, value: string): void => {
        if (m && !hit) [hit, field, observed] = [m, where, value];
      };
      check(set.matchIp(f.dstIp), 'dst_ip', f.dstIp);
      check(set.matchIp(f.srcIp), 'src_ip', f.srcIp);
      const app = f.app;
      if (app && !hit) {
        for (const key of ['tls_sni', 'http_host', 'dns_query'] as const) {
          const v = app[key];
          if (typeof v === 'string') check(set.matchDomain(v), key, v);
        }
        if (typeof app.ja4 === 'string') check(set.matchJa4(app.ja4), 'ja4', app.ja4);
        if (Array.isArray(app.dns_answers)) {
          for (const a of app.dns_answers) {
            if (typeof a !== 'string') continue;
            check(a.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(a) ? set.matchIp(a) : set.matchDomain(a), 'dns_answers', a);
          }
        }
      }
      if (!hit) continue;
      const meta: IndicatorMeta = hit;
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
