// Syslog output (RFC 5424) over UDP (RFC 5426: one message per datagram), TCP (RFC 6587
// octet-counting: "<length> <message>", so a message may contain newlines) or TLS (RFC 5425: the same
// octet-counted frames inside TLS; the server's certificate is checked against `ca_file` or the
// system's CAs). The MSG part is CEF (cef.ts) or the ECS JSON document (ecs.ts).
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID name="value" ...] MSG
//
// PRI = facility × 8 + severity (critical→2 crit, high→3 err, medium→4 warning, low→5 notice).
// HOSTNAME / APP-NAME / MSGID are printable US-ASCII without spaces, cut to 255 / 48 / 32 characters
// ('-' when empty). SD-PARAM values escape '"', '\' and ']' with a backslash (RFC 5424 §6.3.3).
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Alert, Severity } from '../../model';

export const SYSLOG_SEVERITY: Record<Severity, number> = { critical: 2, high: 3, medium: 4, low: 5 };

export function sdParamEscape(v: string): string {
  return v.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

/** Printable US-ASCII (33–126), at most `max` characters, '-' for nothing. */
function headerField(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

export interface SyslogFormat {
  facility: number;
  hostname: string;
  appName: string;
  /** SD-ID of the structured-data element, e.g. goalkeeper@32473 */
  sdId: string;
  procId: string;
  /** the MSG part */
  message(alert: Alert): string;
}

export function formatRfc5424(a: Alert, f: SyslogFormat): string {
  const pri = f.facility * 8 + SYSLOG_SEVERITY[a.severity];
  const params: Array<[string, string | number | null]> = [
    ['id', a.id], ['category', a.category], ['severity', a.severity], ['agent', a.agent_id],
    ['src', a.src_ip], ['dst', a.dst_ip], ['dport', a.dst_port], ['attack', a.attack_id], ['score', a.score],
  ];
  const sd = `[${f.sdId}${params.filter(([, v]) => v !== null).map(([k, v]) => ` ${k}="${sdParamEscape(String(v))}"`).join('')}]`;
  const ts = new Date(a.ts * 1000).toISOString();
  return `<${pri}>1 ${ts} ${headerField(f.hostname, 255)} ${headerField(f.appName, 48)} ${headerField(f.procId, 128)} ${headerField(a.category, 32)} ${sd} ${f.message(a)}`;
}

/** RFC 6587 octet counting: the length is in bytes of the UTF-8 message. */
function octetCounted(msg: string): Buffer {
  const body = Buffer.from(msg, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/** One UDP socket; a send error rejects (counted by the caller, not retried: UDP has no delivery). */
export class UdpSyslogSender {
  private readonly socket: dgram.Socket;
  constructor(private readonly host: string, private readonly port: number) {
    this.socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    this.socket.on('error', () => undefined);
    this.socket.unref();
  }
  send(msg: string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(Buffer.from(msg, 'utf8'), this.port, this.host, (err) => (err ? reject(err) : resolve())));
  }
  close(): void {
    this.socket.close();
  }
}

/** A TCP connection made on demand and remade after an error; send resolves once the bytes are written. */
export class TcpSyslogSender {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private closed = false;

  /** `tlsOptions`: connect with TLS (RFC 5425) and verify the server against these options' CAs. */
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly timeoutMs: number,
    private readonly tlsOptions?: tls.ConnectionOptions,
  ) {}

  private connect(): Promise<net.Socket> {
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const s = this.tlsOptions
        ? tls.connect({ ...this.tlsOptions, host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host })
        : net.connect({ host: this.host, port: this.port });
      s.setTimeout(this.timeoutMs, () => s.destroy(new Error(`syslog ${this.host}:${this.port}: timed out`)));
      s.once(this.tlsOptions ? 'secureConnect' : 'connect', () => {
        s.setTimeout(0);
        this.socket = s;
        resolve(s);
      });
      s.once('error', reject);
      s.on('error', () => undefined);
      s.on('data', () => undefined); // receivers do not talk back; anything they send is discarded
      s.once('close', () => {
        if (this.socket === s) this.socket = undefined;
        this.connecting = undefined;
      });
    }).catch((err) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  async send(msg: string): Promise<void> {
    if (this.closed) throw new Error('syslog sender closed');
    const s = this.socket ?? (await this.connect());
    await new Promise<void>((resolve, reject) => s.write(octetCounted(msg), (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    this.closed = true;
    this.socket?.end();
    this.socket = undefined;
  }
}
