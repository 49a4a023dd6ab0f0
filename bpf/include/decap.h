/* Receiving role: strip IP-in-IP or GUE sent by an allow-listed peer and hand the inner
 * packet to the stack (this kernel has no ipip/fou modules to do it). */
#ifndef CATCHMENT_DECAP_H
#define CATCHMENT_DECAP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"
#include "parsing.h"

static __always_inline int decapsulate(struct xdp_md *ctx, const __be32 *outer_src, __u32 outer_len, int gue,
				       struct counters *cnt)
{
	struct addr_key peer;
	__builtin_memcpy(peer.addr, outer_src, 16);
	__u32 *last_seen = bpf_map_lookup_elem(&peers, &peer);
	if (!last_seen) {
		cnt->decap_foreign++;
		return XDP_DROP;
	}
	/* Last second (CLOCK_MONOTONIC) a packet came from this peer: the agent keeps a peer
	 * the snapshot no longer lists until its redirected flows have idled out. */
	__u32 now_s = bpf_ktime_get_coarse_ns() / 1000000000ULL;
	if (*last_seen != now_s)
		*last_seen = now_s;

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if (outer_len > 128)
		return XDP_DROP;
	__u8 *inner = data + sizeof(struct ethhdr) + outer_len;
	if ((void *)(inner + 1) > data_end) {
		cnt->malformed++;
		return XDP_DROP;
	}
	__u16 proto;
	if ((*inner >> 4) == 4)
		proto = ETH_P_IP;
	else if ((*inner >> 4) == 6)
		proto = ETH_P_IPV6;
	else {
		cnt->malformed++;
		return XDP_DROP;
	}
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	struct ethhdr old;
	__builtin_memcpy(&old, eth, sizeof(old));

	if (bpf_xdp_adjust_head(ctx, (int)outer_len)) {
		cnt->adjust_fail++;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, old.h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old.h_source, ETH_ALEN);
	eth->h_proto = bpf_htons(proto);
	if (gue)
		cnt->decap_gue++;
	else
		cnt->decap_ipip++;
	return XDP_PASS;
}

#endif
