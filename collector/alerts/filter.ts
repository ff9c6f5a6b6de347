// Which alerts a subscriber or an output wants: severity at least X, categories, agents, hosts (the
// alert's src_ip or dst_ip). One shape for WebSocket query parameters, output config and the store's
// SQL filter (store/store.ts AlertFilter), so a replay and the live stream select the same alerts.
import type { Alert, Severity } from '../model';
import type { AlertFilter } from '../store';

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Severities at or above `min`. */
export function severitiesFrom(min: Severity): Severity[] {
  return SEVERITIES.slice(SEVERITIES.indexOf(min));
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/** The config/query form: every field optional; lists match any of their members. */
export interface FilterSpec {
  readonly min_severity?: Severity;
  readonly categories?: readonly string[];
  readonly agents?: readonly string[];
  readonly hosts?: readonly string[];
}

export function toAlertFilter(spec: FilterSpec): AlertFilter | undefined {
  const f: { -readonly [K in keyof AlertFilter]: AlertFilter[K] } = {};
  if (spec.min_severity && spec.min_severity !== 'low') f.severities = severitiesFrom(spec.min_severity);
  if (spec.categories?.length) f.categories = spec.categories;
  if (spec.agents?.length) f.agents = spec.agents;
  if (spec.hosts?.length) f.hosts = spec.hosts;
  return Object.keys(f).length ? f : undefined;
}

export function matches(f: AlertFilter | undefined, a: Alert): boolean {
  if (!f) return true;
  if (f.severities && !f.severities.includes(a.severity)) return false;
  if (f.categories && !f.categories.includes(a.category)) return false;
  if (f.agents && !f.agents.includes(a.agent_id)) return false;
  if (f.hosts && !f.hosts.some((h) => h === a.src_ip || h === a.dst_ip)) return false;
  return true;
}

const MAX_VALUES = 100;

/**
 * Reads `min_severity`, `category`, `agent`, `host` from query parameters (each list parameter may be
 * repeated or comma-separated). Returns an error message naming the parameter when one is bad.
 */
export function filterFromQuery(q: URLSearchParams): { spec: FilterSpec } | { error: string } {
  const list = (name: string): string[] | undefined => {
    const all = q.getAll(name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
    return all.length ? all : undefined;
  };
  const min = q.get('min_severity') ?? undefined;
  if (min !== undefined && !isSeverity(min)) return { error: `min_severity must be one of ${SEVERITIES.join(', ')} (got ${JSON.stringify(min)})` };
  const spec = { min_severity: min as Severity | undefined, categories: list('category'), agents: list('agent'), hosts: list('host') };
  for (const [name, values] of [['category', spec.categories], ['agent', spec.agents], ['host', spec.hosts]] as const) {
    if (values && values.length > MAX_VALUES) return { error: `${name}: at most ${MAX_VALUES} values` };
    if (values?.some((v) => v.length > 256)) return { error: `${name}: a value is longer than 256 characters` };
  }
  return { spec };
}
