// ArcSight Common Event Format (CEF:0), the line SIEMs parse from syslog.
//   CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
// Header fields escape backslash and pipe; extension values escape backslash, equals sign, CR and LF
// (CEF spec, "Character Encoding"). Extension keys are fixed names from the CEF dictionary.
import { isIPv6 } from 'node:net';
import type { Alert, Severity } from '../../model';
import { alertSummary } from './ecs';

/** CEF severity 0–10. */
export const CEF_SEVERITY: Record<Severity, number> = { low: 3, medium: 5, high: 8, critical: 10 };

export function cefHeaderEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n|\r/g, ' ');
}

export function cefValueEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

export function alertToCef(a: Alert, version: string): string {
  const ext: Array<[string, string | number]> = [
    ['rt', Math.round(a.ts * 1000)],
    ['externalId', a.id],
    ['cat', a.category],
    ['dvchost', a.agent_id],
  ];
  if (a.src_ip !== null) ext.push([isIPv6(a.src_ip) ? 'c6a2' : 'src', a.src_ip]);
  if (a.dst_ip !== null) ext.push([isIPv6(a.dst_ip) ? 'c6a3' : 'dst', a.dst_ip]);
  if (a.dst_port !== null) ext.push(['dpt', a.dst_port]);
  if (Number.isFinite(a.first_ts)) ext.push(['start', Math.round(a.first_ts * 1000)]);
  if (Number.isFinite(a.last_ts)) ext.push(['end', Math.round(a.last_ts * 1000)]);
  if (a.attack_id) ext.push(['cs1Label', 'mitreTechnique'], ['cs1', a.attack_id]);
  ext.push(['cn1Label', 'score'], ['cn1', a.score], ['cn2Label', 'threshold'], ['cn2', a.threshold]);
  ext.push(['msg', alertSummary(a)]);
  const header = ['CEF:0', 'Goalkeeper', 'Goalkeeper', version, a.category, `${a.category} (${a.severity})`, String(CEF_SEVERITY[a.severity])];
  return `${header.map((h, i) => (i === 0 ? h : cefHeaderEscape(h))).join('|')}|${ext.map(([k, v]) => `${k}=${cefValueEscape(String(v))}`).join(' ')}`;
}
