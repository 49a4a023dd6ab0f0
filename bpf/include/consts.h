/* Constants shared by the DSR data plane. Map sizes and flags here are mirrored in
 * apps/edge/src/xdp/layout.ts (checked against BTF by the tests). */
#ifndef CATCHMENT_CONSTS_H
#define CATCHMENT_CONSTS_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_ALEN 6

#define IPPROTO_IPIP 4
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41
#define IPPROTO_ICMP 1
#define IPPROTO_ICMPV6 58

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

#define MAX_VIPS 1024
#define MAX_TARGETS 16
#define MAX_FLOWS 65536
#define MAX_PEERS 64
#define MAX_PREFIXES 4096

/* config.encap */
#define ENCAP_IPIP 0
#define ENCAP_GUE 1

/* client_prefixes values */
#define PREFIX_ALWAYS 1
#define PREFIX_NEVER 2

/* Outer header sizes. */
#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define UDP_HDR_LEN 8

/* A cached next hop is trusted this long before bpf_fib_lookup runs again (the benchmark
 * builds a variant with 0: a route lookup per packet, for comparison). */
#ifndef NEXTHOP_TTL_NS
#define NEXTHOP_TTL_NS 1000000000ULL
#endif

/* The GUE source port: ephemeral range, flow hash in the low bits (RSS spreading at the target). */
#define GUE_SPORT_BASE 0xC000
#define GUE_SPORT_MASK 0x3FFF

#define IP_DEFAULT_TTL 64

#define AF_INET 2
#define AF_INET6 10

#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF

#endif
