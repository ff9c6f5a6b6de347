// Builds the configured alert outputs (alerts.outputs.*) and subscribes each to the hub behind its
// filter. Each output owns a bounded queue; the hub's sink only enqueues, so a slow or dead receiver
// never holds up ingest or the other outputs.
//
// Metrics (label output="<name>"): output_sent_total, output_retries_total, output_dead_letters_total,
// output_drops_total (queue full or abandoned at shutdown), output_queue_length.
import * as fs from 'node:fs';
import type { OutputsConfig, RetryConfig, SyslogConfig, WebhookConfig } from '../../config';
import { CollectorError, CollectorErrorCode, errorMessage } from '../../errors';
import type { Alert } from '../../model';
import type { Logger, Registry } from '../../obs';
import { matches, toAlertFilter } from '../filter';
import type { AlertHub } from '../hub';
import { alertToCef } from './cef';
import { alertToEcs, type EcsContext } from './ecs';
import { RetryQueue, type OutputCounters } from './retry-queue';
import { formatRfc5424, TcpSyslogSender, UdpSyslogSender } from './syslog';
import { renderAlertJson, webhookDeliverer } from './webhook';

export interface OutputsDeps {
  hub: AlertHub;
  metrics: Registry;
  log: Logger;
  ecs: EcsContext;
}

export interface RunningOutputs {
  /** resolves once every queue is empty (tests) */
  drained(): Promise<void>;
  close(): void;
}

function policy(c: RetryConfig): ConstructorParameters<typeof RetryQueue>[1] {
  return { maxQueue: c.max_queue, maxAttempts: c.max_attempts, initialBackoffMs: c.initial_backoff_ms, maxBackoffMs: c.max_backoff_ms };
}

/** A file named by the config; `key` names the option in the error. */
function readFile(file: string, key: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CollectorError(CollectorErrorCode.CONFIG_UNREADABLE, `${key}: cannot read ${file}: ${errorMessage(err)}`);
  }
}

function readSecret(w: WebhookConfig, i: number): string {
  const secret = readFile(w.secret_file, `alerts.outputs.webhooks[${i}].secret_file`).trim();
  if (secret.length < 16) {
    throw new CollectorError(CollectorErrorCode.CONFIG_INVALID, `alerts.outputs.webhooks[${i}].secret_file: the secret in ${w.secret_file} is shorter than 16 characters`);
  }
  return secret;
}

export function startOutputs(cfg: OutputsConfig, deps: OutputsDeps): RunningOutputs {
  const m = deps.metrics;
  const names = [...cfg.webhooks, ...cfg.syslog].map((o) => ({ output: o.name }));
  const counters: OutputCounters = {
    sent: m.counter('output_sent_total', 'Alerts delivered by an output (2xx answer, or written to the syslog socket).', names),
    retries: m.counter('output_retries_total', 'Failed delivery attempts that will be retried.', names),
    deadLetters: m.counter('output_dead_letters_total', 'Alerts given up after max_attempts (or a permanent 4xx).', names),
    drops: m.counter('output_drops_total', 'Alerts dropped because the output queue was full (or abandoned at shutdown).', names),
  };
  const queues: Array<{ name: string; queue: RetryQueue }> = [];
  const closers: Array<() => void> = [];
  const log = deps.log;

  const attach = (o: WebhookConfig | SyslogConfig, queue: RetryQueue): void => {
    const filter = toAlertFilter(o);
    queues.push({ name: o.name, queue });
    closers.push(deps.hub.subscribe((a) => {
      if (matches(filter, a)) queue.push(a);
    }));
    closers.push(() => queue.close());
  };

  cfg.webhooks.forEach((w, i) => {
    const deliver = webhookDeliverer({
      url: w.url,
      secret: readSecret(w, i),
      timeoutMs: w.timeout_ms,
      render: w.format === 'ecs' ? (a) => alertToEcs(a, deps.ecs) : renderAlertJson,
    });
    attach(w, new RetryQueue(w.name, policy(w), deliver, counters, log.child({ output: w.name })));
  });

  cfg.syslog.forEach((s, i) => {
    const format = {
      facility: s.facility,
      hostname: deps.ecs.collectorId,
      appName: s.app_name,
      sdId: s.sd_id,
      procId: String(process.pid),
      message: s.format === 'cef' ? (a: Alert) => alertToCef(a, deps.ecs.version) : (a: Alert) => JSON.stringify(alertToEcs(a, deps.ecs)),
    };
    // UDP has no acknowledgement: one attempt, a send error is a dead letter.
    const sender = s.transport === 'udp'
      ? new UdpSyslogSender(s.host, s.port)
      : new TcpSyslogSender(s.host, s.port, s.timeout_ms, s.transport === 'tls' ? { ca: s.ca_file ? readFile(s.ca_file, `alerts.outputs.syslog[${i}].ca_file`) : undefined } : undefined);
    const p = policy(s);
    if (s.transport === 'udp') p.maxAttempts = 1;
    attach(s, new RetryQueue(s.name, p, (a) => sender.send(formatRfc5424(a, format)), counters, log.child({ output: s.name })));
    closers.push(() => sender.close());
  });

  m.gauge('output_queue_length', 'Alerts waiting in an output queue.', () => queues.map((q) => [{ output: q.name }, q.queue.length]));
  return {
    drained: async () => {
      await Promise.all(queues.map((q) => q.queue.drained()));
    },
    close: () => {
      for (const c of closers) c();
    },
  };
}
