// Loads the configured threat-intel sources (files or http(s) URLs; plain lists or STIX 2.1) into
// one IndicatorSet and swaps it in whole. Reloads without a restart: `reload()` (main.ts calls it on
// SIGHUP) re-reads every source; the poll timer (every reload_secs) re-reads a file whose mtime or
// size changed and re-fetches every URL. A source that fails (missing file, HTTP error, bad JSON)
// keeps its last good indicators; the failure is counted in
// intel_load_failures_total{source} and logged. At most max_indicators are kept (the rest counted in
// intel_indicators_dropped_total). Gauges: intel_indicators{kind}.
import { promises as fs } from 'node:fs';
import type { ThreatIntelConfig, IntelSourceConfig } from '../../config';
import type { Counter, Logger, Registry } from '../../obs';
import { IndicatorSet, type IndicatorMeta } from './indicators';
import { parseList, type ParsedIndicators } from './list-format';
import { parseStix } from './stix';

/** URL fetches give up after this long. */
export const FETCH_TIMEOUT_MS = 30_000;
/** A source larger than this is refused (bytes). */
export const MAX_SOURCE_BYTES = 256 * 1024 * 1024;

interface SourceState {
  indicators: IndicatorMeta[];
  mtimeMs: number;
  size: number;
}

export class IntelLoader {
  private current = new IndicatorSet();
  private readonly states = new Map<string, SourceState>();
  private readonly failures: Counter;
  private readonly dropped: Counter;
  private readonly loads: Counter;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly cfg: ThreatIntelConfig, metrics: Registry, private readonly log: Logger) {
    this.failures = metrics.counter('intel_load_failures_total', 'Threat-intel sources that could not be loaded (last good indicators kept).',
      cfg.sources.map((s) => ({ source: s.name })));
    this.dropped = metrics.counter('intel_indicators_dropped_total', 'Threat-intel entries not used: over max_indicators, unparseable, unsupported or expired.');
    this.loads = metrics.counter('intel_loads_total', 'Times the threat-intel indicator set was rebuilt.');
    metrics.gauge('intel_indicators', 'Threat-intel indicators in use, by kind.', () => [
      [{ kind: 'ip' }, this.current.ips.size], [{ kind: 'domain' }, this.current.domains.size], [{ kind: 'ja4' }, this.current.ja4.size],
    ]);
  }

  /** The indicator set in use (replaced whole on every reload). */
  get indicators(): IndicatorSet {
    return this.current;
  }

  /** Starts polling every reload_secs. */
  start(): void {
    if (this.timer || this.cfg.sources.length === 0) return;
    this.timer = setInterval(() => void this.load(false), this.cfg.reload_secs * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-reads every source now. */
  reload(): Promise<void> {
    return this.load(true);
  }

  private load(force: boolean): Promise<void> {
    // one load at a time; a reload asked for during a load runs after it
    const next = (this.running ?? Promise.resolve()).then(() => this.loadAll(force));
    this.running = next.finally(() => {
      if (this.running === next) this.running = undefined;
    });
    return next;
  }

  private async loadAll(force: boolean): Promise<void> {
    let changed = force && this.states.size === 0;
    for (const src of this.cfg.sources) {
      try {
        if (await this.loadSource(src, force)) changed = true;
      } catch (err) {
        this.failures.inc({ source: src.name });
        this.log.warn('threat-intel source not loaded; keeping its last indicators', {
          source: src.name, err: err instanceof Error ? err.message : String(err),
        });
      }
    }
    if (changed) this.rebuild();
  }

  /** True when the source was (re)read. */
  private async loadSource(src: IntelSourceConfig, force: boolean): Promise<boolean> {
    const prev = this.states.get(src.name);
    let text: string;
    let mtimeMs = 0;
    let size = 0;
    if (src.path) {
      const st = await fs.stat(src.path);
      if (!force && prev && prev.mtimeMs === st.mtimeMs && prev.size === st.size) return false;
      if (st.size > MAX_SOURCE_BYTES) throw new Error(`${src.path} is ${st.size} bytes, over ${MAX_SOURCE_BYTES}`);
      text = await fs.readFile(src.path, 'utf8');
      mtimeMs = st.mtimeMs;
      size = st.size;
    } else {
      const res = await fetch(src.url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`GET ${src.url}: HTTP ${res.status}`);
      text = await res.text();
      if (text.length > MAX_SOURCE_BYTES) throw new Error(`${src.url} is over ${MAX_SOURCE_BYTES} bytes`);
    }
    let parsed: ParsedIndicators;
    try {
      parsed = src.format === 'stix' ? parseStix(text, src.name, Date.now()) : parseList(text, src.name);
    } catch (err) {
      throw new Error(`${src.path || src.url}: not a STIX 2.1 bundle (${err instanceof Error ? err.message : String(err)})`);
    }
    if (parsed.rejected > 0) {
      this.dropped.inc(undefined, parsed.rejected);
      this.log.warn('threat-intel entries skipped', { source: src.name, rejected: parsed.rejected });
    }
    this.states.set(src.name, { indicators: parsed.indicators, mtimeMs, size });
    return true;
  }

  private rebuild(): void {
    const set = new IndicatorSet();
    let over = 0;
    for (const st of this.states.values()) {
      for (const meta of st.indicators) {
        if (set.size >= this.cfg.max_indicators) over++;
        else set.add(meta);
      }
    }
    if (over > 0) {
      this.dropped.inc(undefined, over);
      this.log.warn('threat-intel indicators over max_indicators dropped', { dropped: over, max_indicators: this.cfg.max_indicators });
    }
    this.current = set;
    this.loads.inc();
    this.log.info('threat-intel indicators loaded', { ips: set.ips.size, domains: set.domains.size, ja4: set.ja4.size });
  }
}
