// EtherType values the decoders act on (IEEE registry numbers).

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;       // 802.1Q
export const ETHERTYPE_QINQ = 0x88a8;       // 802.1ad service tag
export const ETHERTYPE_QINQ_OLD = 0x9100;   // pre-standard QinQ
export const ETHERTYPE_QINQ_OLD2 = 0x9200;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_MPLS = 0x8847;       // unicast
export const ETHERTYPE_MPLS_MC = 0x8848;    // multicast: same label format
export const ETHERTYPE_PPPOE_SESSION = 0x8864;
export const ETHERTYPE_TEB = 0x6558;        // transparent Ethernet bridging: an Ethernet frame follows (GRE, Geneve)
export const ETHERTYPE_ERSPAN_2 = 0x88be;   // GRE protocol of ERSPAN types I and II
export const ETHERTYPE_ERSPAN_3 = 0x22eb;   // GRE protocol of ERSPAN type III
export const ETHERTYPE_PPP = 0x880b;        // GRE protocol of PPTP's enhanced GRE (version 1)
