/* Next hop towards a DSR target: one bpf_fib_lookup per target per NEXTHOP_TTL_NS,
 * cached in the nexthops array by target slot (the route lookup dominates the cost otherwise). */
#ifndef CATCHMENT_NEXTHOP_H
#define CATCHMENT_NEXTHOP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "parsing.h"

static __always_inline struct nexthop *nexthop_for(struct xdp_md *ctx, const struct config *cfg, const __be32 *target,
						     __u8 family, __u32 slot, __u64 now, struct nexthop *scratch,
						     struct counters *cnt)
{
	struct nexthop *nh = NULL;
	int cacheable = 0;

	if (slot < MAX_TARGETS) {
		/* Masked again: the verifier loses the bound when the compiler reloads slot. */
		slot &= MAX_TARGETS - 1;
		nh = bpf_map_lookup_elem(&nexthops, &slot);
		if (nh && addr_eq(nh->addr, target) && nh->expires_ns > now)
			return nh;
		/* The slot caches only the target configured there now. */
		cacheable = nh && addr_eq(cfg->targets[slot & (MAX_TARGETS - 1)].addr, target);
	}

	struct bpf_fib_lookup p = {};
	p.ifindex = ctx->ingress_ifindex;
	if (family == 4) {
		p.family = AF_INET;
		p.ipv4_src = cfg->src_v4;
		p.ipv4_dst = target[3];
	} else {
		p.family = AF_INET6;
		__builtin_memcpy(p.ipv6_src, cfg->src_v6, 16);
		__builtin_memcpy(p.ipv6_dst, target, 16);
	}
	cnt->nexthop_lookup++;
	if (bpf_fib_lookup(ctx, &p, sizeof(p), 0) != BPF_FIB_LKUP_RET_SUCCESS) {
		cnt->fib_fail++;
		return NULL;
	}

	struct nexthop *out = cacheable ? nh : scratch;
	if (!cacheable)
		cnt->nexthop_uncached++;
	if (!out)
		return NULL;
	__builtin_memcpy(out->addr, target, 16);
	__builtin_memcpy(out->dmac, p.dmac, ETH_ALEN);
	__builtin_memcpy(out->smac, p.smac, ETH_ALEN);
	out->ifindex = p.ifindex;
	out->expires_ns = now + NEXTHOP_TTL_NS;
	return out;
}

#endif
