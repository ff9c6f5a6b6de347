// The one entry to the wire schema: agent/ and collector/ import from here, never from proto/gen.
import './plain-numbers'; // must stay the first import
import { goalkeeper } from './gen/goalkeeper';

import v1 = goalkeeper.v1;

export const PROTOCOL_VERSION = v1.ProtocolVersion.PROTOCOL_VERSION_1;
export const AgentMessage = v1.AgentMessage;
export const CollectorMessage = v1.CollectorMessage;
export const EndReason = v1.EndReason;
export const AckStatus = v1.AckStatus;
export const ErrorCode = v1.ErrorCode;
export const RecordType = v1.RecordType;
export const TunnelType = v1.TunnelType;

export type IAgentMessage = v1.IAgentMessage;
export type ICollectorMessage = v1.ICollectorMessage;
export type IHello = v1.IHello;
export type IWelcome = v1.IWelcome;
export type IFlowBatch = v1.IFlowBatch;
export type IFlowRecord = v1.IFlowRecord;
export type IDirectionStats = v1.IDirectionStats;
export type IStats = v1.IStats;
export type IAppInfo = v1.IAppInfo;
export type IHeartbeat = v1.IHeartbeat;
export type IAck = v1.IAck;
export type IError = v1.IError;
export type EndReasonValue = v1.EndReason;
export type ErrorCodeValue = v1.ErrorCode;

export function encodeAgentMessage(msg: IAgentMessage): Uint8Array {
  return v1.AgentMessage.encode(msg).finish();
}

/** Throws protobufjs' RangeError/Error on bytes that are not an AgentMessage; callers map it to a coded error. */
export function decodeAgentMessage(bytes: Uint8Array): v1.AgentMessage {
  return v1.AgentMessage.decode(bytes);
}

export function encodeCollectorMessage(msg: ICollectorMessage): Uint8Array {
  return v1.CollectorMessage.encode(msg).finish();
}

export function decodeCollectorMessage(bytes: Uint8Array): v1.CollectorMessage {
  return v1.CollectorMessage.decode(bytes);
}

/** Stable lower-case names of end reasons, as JSON outputs and the store spell them. */
export const END_REASON_NAMES: Record<number, string> = {
  [v1.EndReason.END_REASON_UNSPECIFIED]: 'unspecified',
  [v1.EndReason.END_REASON_IDLE]: 'idle',
  [v1.EndReason.END_REASON_ACTIVE]: 'active',
  [v1.EndReason.END_REASON_END_OF_FLOW]: 'end_of_flow',
  [v1.EndReason.END_REASON_FORCED]: 'forced',
  [v1.EndReason.END_REASON_RESOURCES]: 'resources',
};

/** Text form of a 4- or 16-byte address (IPv6 compressed as RFC 5952 prescribes). */
export function formatAddress(addr: Uint8Array): string {
  if (addr.length === 4) return `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}`;
  if (addr.length !== 16) return '';
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((addr[i] << 8) | addr[i + 1]);
  // Longest run of two or more zero groups becomes '::' (first one wins on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
