// SPDX-License-Identifier: GPL-2.0
/* Catchment DSR shedding: forwards a chosen share of NEW TCP connections to a VIP,
 * encapsulated, to other edges whose servers answer the client directly; keeps every
 * later packet of those flows going the same way (flow table), also after shedding is
 * turned off. The receiving role decapsulates traffic from allow-listed peers. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "include/consts.h"
#include "include/structs.h"
#include "include/maps.h"
#include "include/parsing.h"
#include "include/jhash.h"
#include "include/nexthop.h"
#include "include/encap.h"
#include "include/decap.h"
#include "include/icmp.h"

/* Sends the packet of a redirected flow to its target (or handles it when it cannot). */
static __always_inline int forward(struct xdp_md *ctx, const struct packet *pkt, const struct config *cfg,
				   const __be32 *target, __u8 family, __u32 slot, __be16 gue_sport,
				   const struct nexthop *nh, struct counters *cnt)
{
	if (encap_len(family, cfg->encap) + pkt->l3_len > cfg->mtu) {
		cnt->oversize++;
		return too_big(ctx, pkt, cfg->mtu - encap_len(family, cfg->encap), cnt);
	}
	return encapsulate(ctx, pkt, cfg, target, family, gue_sport, nh, cnt);
}

static __always_inline __u32 flow_hash(const struct packet *pkt, __u32 seed)
{
	if (pkt->family == 4)
		return jhash_3words(pkt->flow.src[3], pkt->flow.dst[3],
				    ((__u32)pkt->flow.sport << 16) | pkt->flow.dport, seed);
	/* src, dst and the port pair are nine consecutive words of flow_key. */
	return jhash_9words((const __u32 *)&pkt->flow, seed);
}

static __always_inline int handle_tcp(struct xdp_md *ctx, struct packet *pkt, const struct config *cfg,
				      struct counters *cnt)
{
	struct vip_key vk;
	__builtin_memcpy(vk.addr, pkt->flow.dst, 16);
	vk.port = pkt->flow.dport;
	vk.proto = IPPROTO_TCP;
	vk.pad = 0;
	if (!bpf_map_lookup_elem(&vips, &vk)) {
		cnt->pass_non_vip++;
		return XDP_PASS;
	}

	__u64 now = bpf_ktime_get_coarse_ns();
	struct nexthop scratch;
	int new_conn = (pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
	struct flow_state *fs = bpf_map_lookup_elem(&flows, &pkt->flow);
	if (fs && new_conn) {
		/* A SYN opens a new connection: an entry on its ports belongs to one that ended
		 * with FIN (only RST removes entries) and a client reusing the port must be decided
		 * afresh, or it follows a target that shedding no longer names. A retransmitted
		 * SYN is decided again with the same hash, so it goes the same way while the
		 * configuration stands. */
		bpf_map_delete_elem(&flows, &pkt->flow);
		cnt->flow_reused++;
		fs = NULL;
	}
	if (fs) {
		if (cfg->flow_idle_ns && now - fs->last_seen_ns > cfg->flow_idle_ns) {
			bpf_map_delete_elem(&flows, &pkt->flow);
			cnt->flow_expired++;
		} else {
			if (now - fs->last_seen_ns > cfg->flow_touch_ns)
				fs->last_seen_ns = now;
			struct nexthop *nh =
				nexthop_for(ctx, cfg, fs->target, fs->family, fs->slot, now, &scratch, cnt);
			if (!nh) {
				cnt->pass_vip_local++;
				return XDP_PASS;
			}
			cnt->flow_forwarded++;
			int act = forward(ctx, pkt, cfg, fs->target, fs->family, fs->slot, fs->gue_sport, nh, cnt);
			if (pkt->tcp_flags & TCP_FLAG_RST) {
				bpf_map_delete_elem(&flows, &pkt->flow);
				cnt->flow_closed++;
			}
			return act;
		}
	}

	if (!new_conn) {
		cnt->pass_vip_local++;
		return XDP_PASS;
	}
	if (!cfg->enabled) {
		cnt->syn_local_disabled++;
		return XDP_PASS;
	}

	__u32 hash = flow_hash(pkt, cfg->seed);
	int shed = (hash & 0xffff) < cfg->fraction;
	if (cfg->prefix_count) {
		struct lpm_key lk;
		lk.prefixlen = 128;
		__builtin_memcpy(lk.addr, pkt->flow.src, 16);
		__u32 *mode = bpf_map_lookup_elem(&client_prefixes, &lk);
		if (mode && *mode == PREFIX_ALWAYS) {
			shed = 1;
			cnt->syn_prefix_always++;
		} else if (mode && *mode == PREFIX_NEVER) {
			cnt->syn_prefix_never++;
			return XDP_PASS;
		}
	}
	if (!shed) {
		cnt->syn_local++;
		return XDP_PASS;
	}

	__u32 count = cfg->target_count;
	__u32 slot = MAX_TARGETS;
	if (count > 0 && count <= MAX_TARGETS) {
		__u32 total = cfg->targets[count - 1].weight_end;
		if (total) {
			__u32 pick = (hash >> 16) % total;
#pragma unroll
			for (__u32 i = 0; i < MAX_TARGETS; i++) {
				if (i < count && pick < cfg->targets[i].weight_end) {
					slot = i;
					break;
				}
			}
		}
	}
	if (slot >= MAX_TARGETS) {
		cnt->syn_no_target++;
		return XDP_PASS;
	}
	const struct target *t = &cfg->targets[slot];
	__u8 family = t->family == 6 ? 6 : 4;
	struct nexthop *nh = nexthop_for(ctx, cfg, t->addr, family, slot, now, &scratch, cnt);
	if (!nh) {
		cnt->syn_local++;
		return XDP_PASS;
	}

	struct flow_state st;
	__builtin_memcpy(st.target, t->addr, 16);
	st.last_seen_ns = now;
	/* Bits the selection (low 16) does not use: small fractions keep the full port spread. */
	st.gue_sport = bpf_htons(GUE_SPORT_BASE | ((hash >> 18) & GUE_SPORT_MASK));
	st.slot = slot;
	st.family = family;
	st.pad = 0;
	bpf_map_update_elem(&flows, &pkt->flow, &st, BPF_ANY);
	cnt->syn_shed++;
	return forward(ctx, pkt, cfg, st.target, family, slot, st.gue_sport, nh, cnt);
}

static __always_inline int parse_tcp(void *l4, void *data_end, struct packet *pkt, struct counters *cnt)
{
	struct tcphdr *tcp = l4;
	if ((void *)(tcp + 1) > data_end) {
		cnt->malformed++;
		return -1;
	}
	pkt->flow.sport = tcp->source;
	pkt->flow.dport = tcp->dest;
	pkt->flow.proto = IPPROTO_TCP;
	pkt->flow.pad[0] = pkt->flow.pad[1] = pkt->flow.pad[2] = 0;
	pkt->tcp_flags = ((__u8 *)tcp)[13];
	return 0;
}

static __always_inline int handle_v4(struct xdp_md *ctx, void *data, void *data_end, const struct config *cfg,
				     struct counters *cnt)
{
	struct iphdr *ip = data + sizeof(struct ethhdr);
	if ((void *)(ip + 1) > data_end) {
		cnt->malformed++;
		return XDP_PASS;
	}
	__u32 ihl = ip->ihl * 4;
	if (ip->protocol == IPPROTO_TCP) {
		/* Cheapest possible exit for the common non-VIP packet. */
		__u8 last = ((__u8 *)&ip->daddr)[3];
		if (!(cfg->vip_last_byte[(last >> 6) & 3] & (1ULL << (last & 63)))) {
			cnt->pass_non_vip++;
			return XDP_PASS;
		}
		if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)) {
			cnt->pass_fragment++;
			return XDP_PASS;
		}
		if (ihl < IPV4_HDR_LEN || ihl > 60) {
			cnt->malformed++;
			return XDP_PASS;
		}
		struct packet pkt;
		if (parse_tcp((void *)ip + ihl, data_end, &pkt, cnt))
			return XDP_PASS;
		map_v4(pkt.flow.src, ip->saddr);
		map_v4(pkt.flow.dst, ip->daddr);
		pkt.l3_off = sizeof(struct ethhdr);
		pkt.l3_len = bpf_ntohs(ip->tot_len);
		pkt.family = 4;
		pkt.tos = ip->tos;
		return handle_tcp(ctx, &pkt, cfg, cnt);
	}
	if (ip->protocol == IPPROTO_IPIP || ip->protocol == IPPROTO_IPV6 ||
	    (ip->protocol == IPPROTO_UDP && cfg->gue_port)) {
		if (ihl < IPV4_HDR_LEN || ihl > 60) {
			cnt->malformed++;
			return XDP_PASS;
		}
		__be32 src[4];
		map_v4(src, ip->saddr);
		if (ip->protocol != IPPROTO_UDP)
			return decapsulate(ctx, src, ihl, 0, cnt);
		struct udphdr *udp = (void *)ip + ihl;
		if ((void *)(udp + 1) > data_end) {
			cnt->malformed++;
			return XDP_PASS;
		}
		if (udp->dest == cfg->gue_port)
			return decapsulate(ctx, src, ihl + UDP_HDR_LEN, 1, cnt);
	}
	cnt->pass_non_tcp++;
	return XDP_PASS;
}

static __always_inline int handle_v6(struct xdp_md *ctx, void *data, void *data_end, const struct config *cfg,
				     struct counters *cnt)
{
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	if ((void *)(ip6 + 1) > data_end) {
		cnt->malformed++;
		return XDP_PASS;
	}
	if (ip6->nexthdr == IPPROTO_TCP) {
		__u8 last = ip6->daddr.in6_u.u6_addr8[15];
		if (!(cfg->vip_last_byte[(last >> 6) & 3] & (1ULL << (last & 63)))) {
			cnt->pass_non_vip++;
			return XDP_PASS;
		}
		struct packet pkt;
		if (parse_tcp(ip6 + 1, data_end, &pkt, cnt))
			return XDP_PASS;
		copy_v6(pkt.flow.src, &ip6->saddr);
		copy_v6(pkt.flow.dst, &ip6->daddr);
		pkt.l3_off = sizeof(struct ethhdr);
		pkt.l3_len = bpf_ntohs(ip6->payload_len) + IPV6_HDR_LEN;
		pkt.family = 6;
		pkt.tos = (bpf_ntohl(*(__be32 *)ip6) >> 20) & 0xff;
		return handle_tcp(ctx, &pkt, cfg, cnt);
	}
	if (ip6->nexthdr == IPPROTO_IPIP || ip6->nexthdr == IPPROTO_IPV6 ||
	    (ip6->nexthdr == IPPROTO_UDP && cfg->gue_port)) {
		__be32 src[4];
		copy_v6(src, &ip6->saddr);
		if (ip6->nexthdr != IPPROTO_UDP)
			return decapsulate(ctx, src, IPV6_HDR_LEN, 0, cnt);
		struct udphdr *udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > data_end) {
			cnt->malformed++;
			return XDP_PASS;
		}
		if (udp->dest == cfg->gue_port)
			return decapsulate(ctx, src, IPV6_HDR_LEN + UDP_HDR_LEN, 1, cnt);
	}
	cnt->pass_non_tcp++;
	return XDP_PASS;
}

SEC("xdp")
int catchment_dsr(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 zero = 0;
	struct counters *cnt = bpf_map_lookup_elem(&counters, &zero);
	struct config *cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cnt || !cfg)
		return XDP_PASS;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end) {
		cnt->malformed++;
		return XDP_PASS;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return handle_v4(ctx, data, data_end, cfg, cnt);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return handle_v6(ctx, data, data_end, cfg, cnt);
	cnt->pass_non_ip++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
