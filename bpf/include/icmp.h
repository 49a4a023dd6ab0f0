/* Oversize after encapsulation: answer the client with ICMP "fragmentation needed"
 * (IPv4) or "packet too big" (IPv6) carrying the MTU left after the tunnel overhead, from
 * the VIP, so its TCP lowers the segment size (path MTU discovery), as Katran does. */
#ifndef CATCHMENT_ICMP_H
#define CATCHMENT_ICMP_H

#include <linux/bpf.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include "csum.h"
#include "parsing.h"

/* Bytes of the original packet quoted: its IP header and the first 8 bytes of TCP. */
#define ICMP4_QUOTE (IPV4_HDR_LEN + 8)
#define ICMP6_QUOTE (IPV6_HDR_LEN + 8)

static __always_inline int trim_to(struct xdp_md *ctx, __u32 len)
{
	__u32 cur = (__u32)(ctx->data_end - ctx->data);
	if (cur < len)
		return -1;
	if (cur == len)
		return 0;
	return bpf_xdp_adjust_tail(ctx, 0 - (int)(cur - len));
}

static __always_inline int too_big_v4(struct xdp_md *ctx, __u32 mtu, struct counters *cnt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *orig = data + sizeof(struct ethhdr);
	if ((void *)(orig + 1) > data_end || orig->ihl != 5)
		return XDP_DROP;
	if (trim_to(ctx, sizeof(struct ethhdr) + ICMP4_QUOTE))
		return XDP_DROP;
	if (bpf_xdp_adjust_head(ctx, 0 - (int)(IPV4_HDR_LEN + sizeof(struct icmphdr))))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ethhdr *old_eth = data + IPV4_HDR_LEN + sizeof(struct icmphdr);
	struct iphdr *ip = (void *)(eth + 1);
	struct icmphdr *icmp = (void *)(ip + 1);
	struct iphdr *quoted = (void *)(icmp + 1);
	if ((void *)quoted + ICMP4_QUOTE > data_end)
		return XDP_DROP;
	/* The old Ethernet header overlaps the new IP header: read it before writing. */
	__u8 mac[ETH_ALEN * 2];
	__builtin_memcpy(mac, old_eth->h_source, ETH_ALEN);
	__builtin_memcpy(mac + ETH_ALEN, old_eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac + ETH_ALEN, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	*(__u8 *)ip = 0x45;
	ip->tos = 0;
	ip->tot_len = bpf_htons(IPV4_HDR_LEN + sizeof(struct icmphdr) + ICMP4_QUOTE);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = IP_DEFAULT_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = quoted->daddr;
	ip->daddr = quoted->saddr;
	ip->check = ipv4_hdr_csum(ip);

	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->un.frag.__unused = 0;
	icmp->un.frag.mtu = bpf_htons(mtu);
	__u64 sum = 0;
	const __u16 *w = (const __u16 *)icmp;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(struct icmphdr) + ICMP4_QUOTE) / 2; i++)
		sum += w[i];
	icmp->checksum = csum_fold(sum);
	cnt->oversize_icmp++;
	return XDP_TX;
}

static __always_inline int too_big_v6(struct xdp_md *ctx, __u32 mtu, struct counters *cnt)
{
	if (trim_to(ctx, sizeof(struct ethhdr) + ICMP6_QUOTE))
		return XDP_DROP;
	if (bpf_xdp_adjust_head(ctx, 0 - (int)(IPV6_HDR_LEN + sizeof(struct icmp6hdr))))
		return XDP_DROP;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct ethhdr *old_eth = data + IPV6_HDR_LEN + sizeof(struct icmp6hdr);
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct icmp6hdr *icmp = (void *)(ip6 + 1);
	struct ipv6hdr *quoted = (void *)(icmp + 1);
	if ((void *)quoted + ICMP6_QUOTE > data_end)
		return XDP_DROP;
	__u8 mac[ETH_ALEN * 2];
	__builtin_memcpy(mac, old_eth->h_source, ETH_ALEN);
	__builtin_memcpy(mac + ETH_ALEN, old_eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac + ETH_ALEN, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IPV6);

	__u16 plen = sizeof(struct icmp6hdr) + ICMP6_QUOTE;
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	ip6->payload_len = bpf_htons(plen);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = IP_DEFAULT_TTL;
	ip6->saddr = quoted->daddr;
	ip6->daddr = quoted->saddr;

	icmp->icmp6_type = ICMPV6_PKT_TOOBIG;
	icmp->icmp6_code = 0;
	icmp->icmp6_cksum = 0;
	icmp->icmp6_mtu = bpf_htonl(mtu);
	/* Pseudo-header (addresses, length, next header) then the ICMPv6 message. */
	__u64 sum = bpf_htons(plen) + bpf_htons(IPPROTO_ICMPV6);
	const __u16 *a = (const __u16 *)&ip6->saddr;
#pragma unroll
	for (int i = 0; i < 16; i++)
		sum += a[i];
	const __u16 *w = (const __u16 *)icmp;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(struct icmp6hdr) + ICMP6_QUOTE) / 2; i++)
		sum += w[i];
	icmp->icmp6_cksum = csum_fold(sum);
	cnt->oversize_icmp++;
	return XDP_TX;
}

static __always_inline int too_big(struct xdp_md *ctx, const struct packet *pkt, __u32 mtu, struct counters *cnt)
{
	if (pkt->family == 4)
		return too_big_v4(ctx, mtu, cnt);
	/* IPv6 links carry at least 1280 bytes; never announce less. */
	return too_big_v6(ctx, mtu < 1280 ? 1280 : mtu, cnt);
}

#endif
