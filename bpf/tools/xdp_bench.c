// SPDX-License-Identifier: Apache-2.0
/* Benchmark helper: runs a pinned XDP program with BPF_PROG_TEST_RUN once per packet,
 * on a FRESH copy of the packet each time (re-running on one buffer would measure the
 * already-encapsulated packet), optionally varying the source port and address so every
 * run is a new flow. Prints JSON: return value of the first run, and duration quantiles.
 *
 * usage: xdp_bench PIN PACKET_HEX COUNT [VARY_PORT_OFFSET VARY_ADDR_OFFSET] [IFINDEX] [SAME_BUFFER]
 *
 * SAME_BUFFER=1: one BPF_PROG_TEST_RUN with repeat=COUNT on one buffer instead (valid only
 * for paths that do not change the packet; no 10 ns clock steps in the average).
 */
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s PIN PACKET_HEX COUNT [PORT_OFF ADDR_OFF] [IFINDEX]\n", argv[0]);
		return 2;
	}
	int fd = bpf_obj_get(argv[1]);
	if (fd < 0) {
		perror("bpf_obj_get");
		return 1;
	}
	const char *hex = argv[2];
	size_t len = strlen(hex) / 2;
	unsigned char tmpl[2048], pkt[2048], out[4096];
	if (len > sizeof(tmpl))
		return 2;
	for (size_t i = 0; i < len; i++)
		sscanf(hex + 2 * i, "%2hhx", &tmpl[i]);
	long count = atol(argv[3]);
	long port_off = argc > 5 ? atol(argv[4]) : -1;
	long addr_off = argc > 5 ? atol(argv[5]) : -1;
	int ifindex = argc > 6 ? atoi(argv[6]) : 0;
	__u32 *d = calloc(count, sizeof(*d));
	struct xdp_md ctx = {.data = 0, .data_end = len, .ingress_ifindex = ifindex};
	__u32 first_ret = 0;
	if (argc > 7 && atoi(argv[7]) == 1) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = tmpl, .data_size_in = len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = count);
		if (ifindex) {
			opts.ctx_in = &ctx;
			opts.ctx_size_in = sizeof(ctx);
		}
		if (bpf_prog_test_run_opts(fd, &opts)) {
			perror("bpf_prog_test_run_opts");
			return 1;
		}
		printf("{\"retval\":%u,\"count\":%ld,\"mean\":%u}\n", opts.retval, count, opts.duration);
		return 0;
	}
	for (long i = 0; i < count; i++) {
		memcpy(pkt, tmpl, len);
		if (port_off >= 0) {
			pkt[port_off] = (i >> 8) & 0xff;
			pkt[port_off + 1] = i & 0xff;
		}
		if (addr_off >= 0) {
			pkt[addr_off] = (i >> 16) & 0xff;
			pkt[addr_off + 1] = (i >> 24) & 0xff;
		}
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);
		if (ifindex) {
			opts.ctx_in = &ctx;
			opts.ctx_size_in = sizeof(ctx);
		}
		if (bpf_prog_test_run_opts(fd, &opts)) {
			perror("bpf_prog_test_run_opts");
			return 1;
		}
		if (i == 0)
			first_ret = opts.retval;
		d[i] = opts.duration;
	}
	qsort(d, count, sizeof(*d), cmp);
	/* Mean below the 99th percentile: the kernel's clock here ticks in 10 ns steps, so the
	 * median is coarse; the mean of many runs resolves finer, minus interrupt outliers. */
	double sum = 0;
	long hi = count - count / 100;
	for (long i = 0; i < hi; i++)
		sum += d[i];
	printf("{\"retval\":%u,\"count\":%ld,\"p10\":%u,\"median\":%u,\"p90\":%u,\"mean\":%.1f}\n", first_ret,
	       count, d[count / 10], d[count / 2], d[count * 9 / 10], hi > 0 ? sum / hi : 0.0);
	return 0;
}
