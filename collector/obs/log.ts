// Structured logs: one JSON object per line on stderr ({ts, level, msg, ...fields}). The sink is
// injectable so tests can capture or silence it; levels below the threshold are bound to a no-op once,
// at construction (pino's habit), not tested on every call.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;
type LogFn = (msg: string, fields?: LogFields) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: LogFields): Logger;
}

const ORDER: Record<Exclude<LogLevel, 'silent'>, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const noop: LogFn = () => {};

export interface LoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  bindings?: LogFields;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const bindings = opts.bindings ?? {};
  const threshold = level === 'silent' ? Infinity : ORDER[level];
  const make = (name: Exclude<LogLevel, 'silent'>): LogFn => {
    if (ORDER[name] < threshold) return noop;
    return (msg, fields) => {
      let line: string;
      try {
        line = JSON.stringify({ ts: new Date().toISOString(), level: name, msg, ...bindings, ...fields });
      } catch {
        line = JSON.stringify({ ts: new Date().toISOString(), level: name, msg, ...bindings, unserializable: true });
      }
      write(line + '\n');
    };
  };
  return {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    child: (more) => createLogger({ level, write, bindings: { ...bindings, ...more } }),
  };
}

export const silentLogger: Logger = createLogger({ level: 'silent' });

/**
 * Rate limit for noisy logs (bad frames from a broken agent): at most one line per key per interval;
 * the lines held back are counted and reported with the next one that goes out.
 */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs: number, private readonly maxKeys = 1000) {}

  /** Returns undefined when the line should be dropped, else the number of lines suppressed before it. */
  admit(key: string, now = Date.now()): number | undefined {
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    if (!entry && this.last.size >= this.maxKeys) this.last.clear();
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
