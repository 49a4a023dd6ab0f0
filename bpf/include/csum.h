/* Checksum helpers for headers the program writes. */
#ifndef CATCHMENT_CSUM_H
#define CATCHMENT_CSUM_H

#include <linux/types.h>

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Checksum of a 20-byte IPv4 header (its check field must be zero). */
static __always_inline __u16 ipv4_hdr_csum(const void *hdr)
{
	const __u16 *w = hdr;
	__u64 sum = 0;

#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	return csum_fold(sum);
}

#endif
