/* Packet parsing: Ethernet, IPv4/IPv6, TCP, into one family-neutral description. */
#ifndef CATCHMENT_PARSING_H
#define CATCHMENT_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "consts.h"
#include "structs.h"

struct packet {
	struct flow_key flow;
	/* L3 offset from data, L3 length from the IP header (trailing padding excluded). */
	__u32 l3_off;
	__u32 l3_len;
	__u8 family; /* 4 or 6 */
	__u8 tcp_flags;
	__u8 tos;
	__u8 pad;
};

#define IPV4_MAPPED_PREFIX bpf_htonl(0x0000ffff)

static __always_inline void map_v4(__be32 *dst, __be32 v4)
{
	dst[0] = 0;
	dst[1] = 0;
	dst[2] = IPV4_MAPPED_PREFIX;
	dst[3] = v4;
}

static __always_inline void copy_v6(__be32 *dst, const struct in6_addr *a)
{
	dst[0] = a->in6_u.u6_addr32[0];
	dst[1] = a->in6_u.u6_addr32[1];
	dst[2] = a->in6_u.u6_addr32[2];
	dst[3] = a->in6_u.u6_addr32[3];
}

static __always_inline int addr_is_v4(const __be32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == IPV4_MAPPED_PREFIX;
}

static __always_inline int addr_eq(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

#endif
