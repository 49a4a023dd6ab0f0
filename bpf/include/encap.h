/* Encapsulation towards a DSR target: IP-in-IP (4in4, 6in4, 4in6, 6in6) or GUE
 * (variant 1, direct IP over UDP) with a per-flow UDP source port. */
#ifndef CATCHMENT_ENCAP_H
#define CATCHMENT_ENCAP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "csum.h"
#include "maps.h"
#include "parsing.h"

/* Outer header length for an outer family and encapsulation. */
static __always_inline __u32 encap_len(__u8 outer_family, __u32 encap)
{
	return (outer_family == 4 ? IPV4_HDR_LEN : IPV6_HDR_LEN) + (encap == ENCAP_GUE ? UDP_HDR_LEN : 0);
}

/* Prepends Ethernet + outer IP (+ UDP) in front of the packet's L3 header and sends it
 * towards nh. Returns the XDP action. Called only after the oversize check. */
static __always_inline int encapsulate(struct xdp_md *ctx, const struct packet *pkt, const struct config *cfg,
				       const __be32 *target, __u8 outer_family, __be16 gue_sport,
				       const struct nexthop *nh, struct counters *cnt)
{
	__u32 encap = cfg->encap;
	__u32 outer_len = encap_len(outer_family, encap);
	__u32 total = outer_len + pkt->l3_len;
	__u8 inner_proto = pkt->family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;

	/* The Ethernet header stays where it is (14 bytes before the new outer header). */
	if (bpf_xdp_adjust_head(ctx, 0 - (int)outer_len)) {
		cnt->adjust_fail++;
		return XDP_DROP;
	}
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);

	struct udphdr *udp;
	if (outer_family == 4) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		eth->h_proto = bpf_htons(ETH_P_IP);
		*(__u8 *)ip = 0x45;
		ip->tos = pkt->tos;
		ip->tot_len = bpf_htons(total);
		ip->id = 0;
		ip->frag_off = 0;
		ip->ttl = IP_DEFAULT_TTL;
		ip->protocol = encap == ENCAP_GUE ? IPPROTO_UDP : inner_proto;
		ip->check = 0;
		ip->saddr = cfg->src_v4;
		ip->daddr = target[3];
		ip->check = ipv4_hdr_csum(ip);
		udp = (void *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		/* Version, traffic class from the inner packet, flow label from the per-flow port. */
		*(__be32 *)ip6 = bpf_htonl(0x60000000 | ((__u32)pkt->tos << 20) | bpf_ntohs(gue_sport));
		ip6->payload_len = bpf_htons(total - IPV6_HDR_LEN);
		ip6->nexthdr = encap == ENCAP_GUE ? IPPROTO_UDP : inner_proto;
		ip6->hop_limit = IP_DEFAULT_TTL;
		__builtin_memcpy(&ip6->saddr, cfg->src_v6, 16);
		__builtin_memcpy(&ip6->daddr, target, 16);
		udp = (void *)(ip6 + 1);
	}

	if (encap == ENCAP_GUE) {
		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		udp->source = gue_sport;
		udp->dest = cfg->gue_port;
		udp->len = bpf_htons(pkt->l3_len + UDP_HDR_LEN);
		/* Zero checksum: allowed for tunnels over IPv6 too (RFC 6935); the inner packet keeps its own. */
		udp->check = 0;
		cnt->encap_gue++;
	} else {
		cnt->encap_ipip++;
	}

	if (nh->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(nh->ifindex, 0);
}

#endif
