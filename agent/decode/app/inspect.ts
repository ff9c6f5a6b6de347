// PLACEHOLDER until the application parsers land (helper writing agent/decode/app/): finds nothing.
import type { AppNames } from './app-names';

export function inspectPayload(_protocol: number, _srcPort: number, _dstPort: number, _buf: Uint8Array,
  _offset: number, _length: number, _out: AppNames): boolean {
  return false;
}
