// Webhook output: each alert is POSTed as JSON (the alert contract, or ECS) to the configured URL,
// signed so the receiver can check it came from this collector and was not replayed:
//
//   X-Goalkeeper-Timestamp: <unix seconds when this attempt was signed>
//   X-Goalkeeper-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//   X-Goalkeeper-Alert-Id:  <alert id>   (the same on every retry: receivers dedupe on it)
//
// A receiver recomputes the HMAC over the raw body and compares in constant time, and refuses a
// timestamp more than a few minutes old (docs/outputs.md has the recipe). Each retry is signed anew.
// 2xx = delivered. 408, 429 and 5xx, timeouts and connection errors are retried (retry-queue.ts);
// other 4xx are permanent (a retry would get the same answer) and dead-lettered at once.
import { createHmac } from 'node:crypto';
import { alertToJson, type Alert } from '../../model';
import { PermanentFailure } from './retry-queue';

export const SIGNATURE_HEADER = 'x-goalkeeper-signature';
export const TIMESTAMP_HEADER = 'x-goalkeeper-timestamp';
export const ALERT_ID_HEADER = 'x-goalkeeper-alert-id';

export function signWebhook(secret: string, timestampSecs: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSecs}.${body}`, 'utf8').digest('hex')}`;
}

export interface WebhookOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  /** alert → body object */
  render(alert: Alert): unknown;
  nowSecs?: () => number;
}

export function webhookDeliverer(opts: WebhookOptions): (alert: Alert) => Promise<void> {
  const now = opts.nowSecs ?? (() => Math.floor(Date.now() / 1000));
  return async (alert) => {
    const body = JSON.stringify(opts.render(alert));
    const ts = now();
    const res = await fetch(opts.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'goalkeeper-collector',
        [TIMESTAMP_HEADER]: String(ts),
        [SIGNATURE_HEADER]: signWebhook(opts.secret, ts, body),
        [ALERT_ID_HEADER]: String(alert.id),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return;
    const msg = `HTTP ${res.status} from ${opts.url}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Error(msg);
    throw new PermanentFailure(msg);
  };
}

export const renderAlertJson = (a: Alert): unknown => alertToJson(a);
