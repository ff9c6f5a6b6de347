// An alert in the Elastic Common Schema (ECS 8.x field names), for webhooks (format "ecs") and syslog
// (format "ecs_json"); docs/outputs.md has the mapping table. What ECS has no field for stays under
// `goalkeeper.*` (score, threshold, evidence), which is how ECS wants custom fields kept apart.
import type { Alert, Severity } from '../../model';

/** ECS event.severity: the numbers Elastic's detection rules use for low / medium / high / critical. */
export const ECS_SEVERITY: Record<Severity, number> = { low: 21, medium: 47, high: 73, critical: 99 };

export interface EcsContext {
  /** the collector's id (observer of the alert stream) */
  collectorId: string;
  /** software version, for observer.version */
  version: string;
}

function iso(secs: number | null): string | undefined {
  return secs === null || !Number.isFinite(secs) ? undefined : new Date(secs * 1000).toISOString();
}

export function alertToEcs(a: Alert, ctx: EcsContext): Record<string, unknown> {
  const ecs: Record<string, unknown> = {
    '@timestamp': iso(a.ts),
    message: alertSummary(a),
    ecs: { version: '8.11.0' },
    event: {
      kind: 'alert',
      category: ['network', 'intrusion_detection'],
      type: ['info'],
      module: 'goalkeeper',
      dataset: 'goalkeeper.alert',
      id: String(a.id),
      severity: ECS_SEVERITY[a.severity],
      risk_score: a.score,
      start: iso(a.first_ts),
      end: iso(a.last_ts),
      created: iso(a.ts),
    },
    rule: { name: a.category, category: a.category },
    observer: { name: a.agent_id, type: 'sensor', vendor: 'Goalkeeper', product: 'goalkeeper-agent' },
    labels: { collector_id: ctx.collectorId },
    goalkeeper: { severity: a.severity, score: a.score, threshold: a.threshold, evidence: a.evidence, collector_version: ctx.version },
  };
  if (a.src_ip !== null) ecs.source = { ip: a.src_ip };
  if (a.dst_ip !== null || a.dst_port !== null) {
    const d: Record<string, unknown> = {};
    if (a.dst_ip !== null) d.ip = a.dst_ip;
    if (a.dst_port !== null) d.port = a.dst_port;
    ecs.destination = d;
  }
  if (a.attack_id) {
    ecs.threat = {
      framework: 'MITRE ATT&CK',
      technique: { id: [a.attack_id], reference: [`https://attack.mitre.org/techniques/${a.attack_id.replace('.', '/')}/`] },
    };
  }
  return ecs;
}

/** One human line: "port_scan (medium) 10.0.0.9 → 10.0.0.20 seen by gw1, score 6/5". */
export function alertSummary(a: Alert): string {
  const dst = a.dst_ip === null ? '' : ` → ${a.dst_ip}${a.dst_port === null ? '' : `:${a.dst_port}`}`;
  return `${a.category} (${a.severity}) ${a.src_ip ?? '?'}${dst} seen by ${a.agent_id}, score ${a.score}/${a.threshold}`;
}
