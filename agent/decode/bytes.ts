// Big-endian reads from a frame buffer. Plain functions on the Uint8Array: V8 inlines them, and they
// allocate nothing (a DataView per packet would). Callers bounds-check first; none of these does.

/** Unsigned 16-bit big-endian value at buf[off]. */
export function be16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** Signed 32-bit big-endian value at buf[off]: the form PacketMeta keeps address words in. */
export function be32s(buf: Uint8Array, off: number): number {
  return (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3];
}
