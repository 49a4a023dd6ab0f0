// SPDX-License-Identifier: GPL-2.0
/* The empty XDP program: baseline for the benchmark, and the program on the veth
 * peers in the lab (a veth delivers XDP_TX/redirected frames only when its peer runs XDP). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
