/* Map keys and values. Every struct here has a twin in apps/edge/src/xdp/layout.ts;
 * explicit padding keeps the layout identical on both sides (test: layout.test.ts). */
#ifndef CATCHMENT_STRUCTS_H
#define CATCHMENT_STRUCTS_H

#include <linux/types.h>
#include "consts.h"

/* Addresses are 16 bytes for both families: IPv4 as ::ffff:a.b.c.d (one map for both). */
struct addr_key {
	__be32 addr[4];
};

struct vip_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct vip_meta {
	__u32 vip_id;
	__u32 flags;
};

struct flow_key {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct flow_state {
	/* Target chosen at SYN time; kept even when the target list changes. */
	__be32 target[4];
	__u64 last_seen_ns;
	__be16 gue_sport;
	/* Index in config.targets when chosen (validated against target before use). */
	__u8 slot;
	__u8 family;
	__u32 pad;
};

struct target {
	__be32 addr[4];
	/* Cumulative weight: the target owns [previous weight_end, weight_end). */
	__u32 weight_end;
	__u32 family;
};

struct config {
	__u32 enabled;
	/* Share of new flows shed, parts per 65536. */
	__u32 fraction;
	__u32 seed;
	__u32 encap;
	__be16 gue_port;
	/* Largest L3 packet (outer IP header included) the egress link carries. */
	__u16 mtu;
	__u32 target_count;
	__u32 prefix_count;
	/* last_seen of a flow is rewritten at most this often (a write per packet otherwise);
	 * well below flow_idle_ns so active flows never idle out. */
	__u32 flow_touch_ns;
	__u64 flow_idle_ns;
	__be32 src_v4;
	__be32 src_v6[4];
	__u32 pad2;
	/* Bit per value of the last byte of VIP addresses: most non-VIP packets pass on one AND. */
	__u64 vip_last_byte[4];
	struct target targets[MAX_TARGETS];
};

struct lpm_key {
	__u32 prefixlen;
	__be32 addr[4];
};

struct nexthop {
	__be32 addr[4];
	__u64 expires_ns;
	__u32 ifindex;
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
};

/* Per-CPU counters, one per decision. */
struct counters {
	__u64 pass_non_ip;
	__u64 pass_non_tcp;
	__u64 pass_fragment;
	__u64 pass_non_vip;
	__u64 pass_vip_local;
	__u64 syn_local;
	__u64 syn_local_disabled;
	__u64 syn_shed;
	__u64 syn_prefix_always;
	__u64 syn_prefix_never;
	__u64 syn_no_target;
	__u64 flow_forwarded;
	__u64 flow_expired;
	__u64 flow_closed;
	__u64 flow_reused;
	__u64 encap_ipip;
	__u64 encap_gue;
	__u64 oversize;
	__u64 oversize_icmp;
	__u64 nexthop_lookup;
	__u64 nexthop_uncached;
	__u64 fib_fail;
	__u64 adjust_fail;
	__u64 decap_ipip;
	__u64 decap_gue;
	__u64 decap_foreign;
	__u64 malformed;
};

#endif
