// Output lines assembled as bytes: constant fragments copied in, numbers written digit by digit, text
// encoded in place. A flow's JSON line built as a string was ~150 pieces of cons-string that the file
// stream then flattened and encoded to UTF-8: string building, encoding and the GC of the pieces took
// more time than the whole per-packet path of the flow's packets.

/** A constant fragment (key, separator) in the form LineBuffer.raw copies. */
export function fragment(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

const INITIAL_BYTES = 64 * 1024;
const MAX_EXACT = 2 ** 53;
/** 2^32 s in µs: see seconds(). */
const MAX_SECONDS_US = 2 ** 32 * 1e6;

export class LineBuffer {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  /** Bytes written so far. */
  length = 0;

  /** Copies a constant fragment. */
  raw(f: Uint8Array): this {
    const n = f.length;
    this.reserve(n);
    const b = this.buf;
    let p = this.length;
    if (n > 8) {
      b.set(f, p);   // a memmove: twice as fast as the loop for a typical 20-byte key
      this.length = p + n;
      return this;
    }
    for (let i = 0; i < n; i++) b[p++] = f[i];
    this.length = p;
    return this;
  }

  /** A number as JSON (its JavaScript text, as JSON.stringify writes it), null unless finite. */
  num(x: number): this {
    if ((x | 0) === x) return x < 0 ? this.ascii('-').digits(-x) : this.digits(x);  // int32 (and -0, printed 0)
    if (x - x !== 0) return this.ascii('null');
    // Larger integers below 2^53 as String() prints them: plain digits.
    if (x > 0 && x <= MAX_EXACT && x === Math.floor(x)) return this.bigDigits(x);
    return this.ascii(String(x));
  }

  /**
   * `us / 1e6` as num() writes it, for a whole number of µs since the epoch (a timestamp in seconds):
   * the digits of `us` with the point put back, trailing zeros dropped. Below 2^32 s the doubles are
   * closer together than 1e-6, so this exact decimal is also the shortest that reads back as the same
   * double, which is what String() prints. Anything else goes through num().
   */
  seconds(us: number): this {
    if (!(us >= 0 && us < MAX_SECONDS_US && us === Math.floor(us))) return this.num(us / 1e6);
    const whole = Math.floor(us / 1e6);
    let frac = us - whole * 1e6;
    this.bigDigits(whole);
    if (frac === 0) return this;
    let places = 6;
    while (frac % 10 === 0) { frac /= 10; places--; }
    this.reserve(8);
    const b = this.buf;
    let p = this.length;
    b[p++] = 0x2e;
    for (let q = p + places - 1; q >= p; q--) {
      const t = (frac / 10) | 0;
      b[q] = 0x30 + frac - t * 10;
      frac = t;
    }
    this.length = p + places;
    return this;
  }

  /** JSON true or false. */
  bool(v: boolean): this {
    return this.ascii(v ? 'true' : 'false');
  }

  /** Text known to be ASCII without characters JSON escapes (names, numbers, addresses, base64). */
  ascii(s: string): this {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.length = p;
    return this;
  }

  /** Any text, encoded as UTF-8 (JSON strings from JSON.stringify, CSV rows). */
  utf8(s: string): this {
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length, 'utf8');
    return this;
  }

  /** The bytes written so far; the line buffer goes on in a new buffer of the same size. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.length = 0;
    return out;
  }

  /** The text written so far; the line buffer starts again empty. */
  takeText(): string {
    const s = this.buf.toString('utf8', 0, this.length);
    this.length = 0;
    return s;
  }

  /** A non-negative int32 (or 2^31, from the negation of -2^31). */
  private digits(x: number): this {
    this.reserve(11);
    const b = this.buf;
    const p = this.length;
    if (x < 10) {
      b[p] = 0x30 + x;
      this.length = p + 1;
      return this;
    }
    let q = p + (x < 100 ? 2 : x < 1000 ? 3 : x < 10000 ? 4 : x < 100000 ? 5 : x < 1000000 ? 6 : x < 10000000 ? 7
      : x < 100000000 ? 8 : x < 1000000000 ? 9 : 10);
    this.length = q;
    while (x >= 10) {
      const t = (x / 10) >>> 0;
      b[--q] = 0x30 + x - t * 10;
      x = t;
    }
    b[--q] = 0x30 + x;
    return this;
  }

  /** A whole number 0 ≤ x ≤ 2^53. */
  private bigDigits(x: number): this {
    if (x < 0x80000000) return this.digits(x);
    this.reserve(16);
    const b = this.buf;
    let n = 0;
    for (let t = x; t >= 1; t = Math.floor(t / 10)) n++;
    let q = this.length + n;
    this.length = q;
    while (x >= 1) {
      const t = Math.floor(x / 10);
      b[--q] = 0x30 + (x - t * 10);
      x = t;
    }
    return this;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}
