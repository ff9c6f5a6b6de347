// The `pcap` package ships no types; we use only these entry points.
declare module 'pcap' {
  export const PcapSession: unknown;
  export function findalldevs(): Array<{ name: string; addresses?: unknown[]; flags?: string }>;
  export const lib_version: string;
}
