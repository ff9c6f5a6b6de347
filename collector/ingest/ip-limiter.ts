// Open WebSocket connections per remote address, bounded (limits.max_connections_per_ip). An address
// at its limit is refused with HTTP 429 before any authentication work.
export class IpLimiter {
  private readonly open = new Map<string, number>();
  constructor(private readonly maxPerIp: number) {}

  tryAcquire(ip: string): boolean {
    const n = this.open.get(ip) ?? 0;
    if (n >= this.maxPerIp) return false;
    this.open.set(ip, n + 1);
    return true;
  }

  release(ip: string): void {
    const n = (this.open.get(ip) ?? 1) - 1;
    if (n <= 0) this.open.delete(ip);
    else this.open.set(ip, n);
  }

  get total(): number {
    let t = 0;
    for (const n of this.open.values()) t += n;
    return t;
  }
}
