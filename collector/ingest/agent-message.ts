// Which body an AgentMessage frame carries, found without decoding the body: batches (nearly every
// frame) go to the batch decoder in place; Hello and Heartbeat are few and go through protobufjs.
import { WireReader, WireType } from './wire-reader';

/** AgentMessage's oneof body field numbers (proto/goalkeeper.proto). */
export const Body = { HELLO: 1, BATCH: 2, HEARTBEAT: 3 } as const;

export interface BodyRange {
  /** the frame's only body is a batch, in buf[start, end) (else: none, another kind, or several kinds) */
  batchOnly: boolean;
  start: number;
  end: number;
}

/** Scans the frame's top-level fields. Throws WireError when it is not well-formed protobuf. */
export function agentMessageBody(buf: Buffer): BodyRange {
  const r = new WireReader(buf);
  const range: BodyRange = { batchOnly: false, start: 0, end: 0 };
  let others = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === Body.BATCH && wt === WireType.LEN) {
      // A repeated body field: protobuf keeps the last one.
      range.end = r.lengthEnd();
      range.start = r.pos;
      r.pos = range.end;
      range.batchOnly = true;
      continue;
    }
    if (field === Body.HELLO || field === Body.HEARTBEAT || field === Body.BATCH) others++;
    r.skip(wt);
  }
  if (others > 0) range.batchOnly = false;
  return range;
}
