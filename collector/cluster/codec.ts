// What travels on JetStream: JSON, because both ends are this collector and a part is read once by a
// worker (and again only on a takeover replay). A part is the flows of one agent batch that fall in one
// partition; its message id `agent.boot.seq.part` lets JetStream drop a resend (duplicate window).
import { createHash } from 'node:crypto';
import type { BatchRecord, NewAlert } from '../model';
import type { BatchPartRecord } from '../store';

/** A part on the wire is the record the store keeps: agent, boot, seq, part, receive time, flows. */
export type BatchPart = BatchPartRecord;

export function partMsgId(p: BatchPart): string {
  return `${p.agentId}.${p.bootId}.${p.seq}.${p.part}`;
}

export function encodePart(p: BatchPart): Uint8Array {
  return Buffer.from(JSON.stringify(p));
}

export function decodePart(data: Uint8Array): BatchPart {
  return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as BatchPart;
}

/** The part as a store of one partition keeps a batch (SQLite partition_store_dir): one row per (agent, boot, seq). */
export function partToBatch(p: BatchPart): BatchRecord {
  return { agentId: p.agentId, bootId: p.bootId, seq: p.seq, receivedUs: p.receivedUs, flows: p.flows };
}

/** An alert on the alerts stream: the detector's alert, when the worker raised it, and its deterministic key. */
export interface AlertMessage {
  key: string;
  ts: number;
  alert: NewAlert;
}

/**
 * The same detection raises the same key on any worker, so JetStream drops the second publish (after a
 * takeover replay, or a redelivered batch): category, agent, hosts, port and the window start.
 */
export function alertKey(a: NewAlert): string {
  const text = [a.category, a.agent_id, a.src_ip ?? '', a.dst_ip ?? '', a.dst_port ?? '', a.first_ts].join('|');
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export function encodeAlert(m: AlertMessage): Uint8Array {
  return Buffer.from(JSON.stringify(m));
}

export function decodeAlert(data: Uint8Array): AlertMessage {
  return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as AlertMessage;
}
