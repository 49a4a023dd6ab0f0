/*
 * Batched UDP socket I/O for Node: recvmmsg(2) and sendmmsg(2) on a socket this addon owns,
 * driven by libuv's poll on the worker's own event loop.
 *
 * Why: Node's dgram makes one recvmsg, one sendmsg, one JS callback, one Buffer and one rinfo
 * object per datagram; for a DNS server that is ~80 % of the cost of a query (see
 * docs/benchmarks.md). Here one readable event reads up to `batch` datagrams with one system
 * call into a fixed buffer, calls JS once for the whole batch, and sends all the replies JS
 * wrote with one system call. Nothing is allocated per datagram on either side.
 *
 * Shared memory with JS (allocated by JS, pinned by references here), per slot i:
 *   in   [i * slot, +slot)   the datagram
 *   out  [i * slot, +slot)   the reply JS writes
 *   meta [i * 4 + 0]         datagram length (-1: longer than a slot, not delivered)
 *        [i * 4 + 1]         source port
 *        [i * 4 + 2]         reply length JS sets (0: no reply)
 *   addr [i * 16, +16)       source address (4 bytes used for IPv4)
 */
#define _GNU_SOURCE
/* Version 8 for napi_add_async_cleanup_hook: a uv handle must be closed asynchronously. */
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define MAX_BATCH 256
/* Batches read per readable event before yielding to the event loop (TCP, timers, messages). */
#define MAX_ROUNDS 8

enum { ST_RECEIVED, ST_SENT, ST_SEND_DROPPED, ST_OVERSIZE, ST_BATCHES, ST_ERRORS, ST_COUNT };

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int family;
  int started;
  int closed;
  /* Two holders: the JS handle (an external) and the open socket; the last one frees. */
  int holds;
  uint32_t batch;
  uint32_t slot;
  uint8_t *in;
  uint8_t *out;
  int32_t *meta;
  uint8_t *addr;
  napi_ref refs[5]; /* in, out, meta, addr, callback */
  napi_async_context ctx;
  napi_async_cleanup_hook_handle cleanup;
  double stats[ST_COUNT];
  struct mmsghdr rmsg[MAX_BATCH];
  struct iovec riov[MAX_BATCH];
  struct sockaddr_storage names[MAX_BATCH];
  struct mmsghdr smsg[MAX_BATCH];
  struct iovec siov[MAX_BATCH];
} sock_t;

#define CHECK(env, call)                                                   \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error((env), "EUDPBATCH", "internal N-API call failed");  \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == EADDRINUSE      ? "EADDRINUSE"
                     : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL"
                     : err == EACCES        ? "EACCES"
                     : err == EINVAL        ? "EINVAL"
                                            : "EUDPBATCH";
  napi_throw_error(env, code, msg);
  return NULL;
}

static void release(sock_t *s) {
  if (--s->holds == 0) free(s);
}

static void on_handle_gone(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  release(data);
}

static void on_closed(uv_handle_t *h) {
  sock_t *s = h->data;
  for (int i = 0; i < 5; i++) napi_delete_reference(s->env, s->refs[i]);
  napi_async_destroy(s->env, s->ctx);
  release(s);
}

/* close() from JS: stops polling and closes the socket; the memory goes once libuv lets go. */
static void shut(sock_t *s) {
  s->closed = 1;
  napi_remove_async_cleanup_hook(s->cleanup);
  close(s->fd);
  if (s->started) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_closed);
  } else {
    release(s);
  }
}

static void on_teardown_closed(uv_handle_t *h) {
  sock_t *s = h->data;
  napi_remove_async_cleanup_hook(s->cleanup);
  release(s);
}

/* The thread's environment is going away without close(): its references go with it. */
static void on_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  sock_t *s = arg;
  (void)handle;
  s->closed = 1;
  close(s->fd);
  if (s->started) {
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_teardown_closed);
  } else {
    napi_remove_async_cleanup_hook(s->cleanup);
    release(s);
  }
}

static void send_replies(sock_t *s, int n) {
  int m = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = s->meta[i * 4 + 2];
    if (len <= 0 || (uint32_t)len > s->slot) continue;
    s->siov[m].iov_base = s->out + (size_t)i * s->slot;
    s->siov[m].iov_len = (size_t)len;
    memset(&s->smsg[m].msg_hdr, 0, sizeof s->smsg[m].msg_hdr);
    s->smsg[m].msg_hdr.msg_name = &s->names[i];
    s->smsg[m].msg_hdr.msg_namelen = s->rmsg[i].msg_hdr.msg_namelen;
    s->smsg[m].msg_hdr.msg_iov = &s->siov[m];
    s->smsg[m].msg_hdr.msg_iovlen = 1;
    m++;
  }
  int off = 0;
  while (off < m) {
    int r = sendmmsg(s->fd, s->smsg + off, (unsigned)(m - off), MSG_DONTWAIT);
    if (r > 0) {
      off += r;
      s->stats[ST_SENT] += r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      /* The send buffer is full: drop the rest, as the kernel would drop them on the wire. */
      s->stats[ST_SEND_DROPPED] += m - off;
      break;
    } else {
      /* An error for one destination (e.g. unreachable): skip it, send the others. */
      s->stats[ST_SEND_DROPPED] += 1;
      s->stats[ST_ERRORS] += 1;
      off += 1;
    }
  }
}

static void deliver(sock_t *s, int n) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[1];
  if (napi_get_reference_value(env, s->refs[4], &cb) == napi_ok && napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, n, &argv[0]) == napi_ok) {
    napi_value result;
    if (napi_make_callback(env, s->ctx, recv, cb, 1, argv, &result) != napi_ok) {
      /* JS is written not to throw; if it does, the batch gets no replies and the server goes on. */
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value ex;
        napi_get_and_clear_last_exception(env, &ex);
      }
      for (int i = 0; i < n; i++) s->meta[i * 4 + 2] = 0;
      s->stats[ST_ERRORS] += 1;
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  sock_t *s = h->data;
  (void)events;
  if (status < 0) {
    s->stats[ST_ERRORS] += 1;
    return;
  }
  for (int round = 0; round < MAX_ROUNDS && !s->closed; round++) {
    for (uint32_t i = 0; i < s->batch; i++) {
      s->riov[i].iov_base = s->in + (size_t)i * s->slot;
      s->riov[i].iov_len = s->slot;
      memset(&s->rmsg[i].msg_hdr, 0, sizeof s->rmsg[i].msg_hdr);
      s->rmsg[i].msg_hdr.msg_name = &s->names[i];
      s->rmsg[i].msg_hdr.msg_namelen = sizeof s->names[i];
      s->rmsg[i].msg_hdr.msg_iov = &s->riov[i];
      s->rmsg[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(s->fd, s->rmsg, s->batch, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) s->stats[ST_ERRORS] += 1;
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      int32_t *m = s->meta + i * 4;
      uint8_t *a = s->addr + i * 16;
      m[0] = (s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)s->rmsg[i].msg_len;
      if (m[0] < 0) s->stats[ST_OVERSIZE] += 1;
      m[2] = 0;
      if (s->names[i].ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&s->names[i];
        m[1] = ntohs(sin->sin_port);
        memcpy(a, &sin->sin_addr, 4);
      } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->names[i];
        m[1] = ntohs(sin6->sin6_port);
        memcpy(a, &sin6->sin6_addr, 16);
      }
    }
    s->stats[ST_RECEIVED] += n;
    s->stats[ST_BATCHES] += 1;
    deliver(s, n);
    if (s->closed) return; /* JS closed the socket while answering. */
    send_replies(s, n);
    if ((uint32_t)n < s->batch) return; /* drained */
  }
}

/* open(family: 4|6, address: string, port: number, reusePort: boolean, bufferBytes: number)
 *   → [handle, boundPort] */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, "EINVAL", "open(family, address, port, reusePort, bufferBytes)");
    return NULL;
  }
  int32_t family, port, buffer;
  bool reuse;
  char address[64];
  size_t alen;
  if (napi_get_value_int32(env, argv[0], &family) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], address, sizeof address, &alen) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || napi_get_value_bool(env, argv[3], &reuse) != napi_ok ||
      napi_get_value_int32(env, argv[4], &buffer) != napi_ok || (family != 4 && family != 6) || port < 0 ||
      port > 65535) {
    napi_throw_type_error(env, "EINVAL", "open: bad arguments");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  memset(&ss, 0, sizeof ss);
  if (family == 4) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &sin->sin_addr) != 1) return throw_errno(env, "open: not an IPv4 address", EINVAL);
    sslen = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, address, &sin6->sin6_addr) != 1)
      return throw_errno(env, "open: not an IPv6 address", EINVAL);
    sslen = sizeof *sin6;
  }
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "SO_REUSEPORT", e);
  }
  if (buffer > 0) {
    /* Deep buffers absorb bursts and GC pauses; the kernel caps them at rmem_max / wmem_max. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  }
  if (bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &blen);
  int bport = ntohs(family == 4 ? ((struct sockaddr_in *)&bound)->sin_port : ((struct sockaddr_in6 *)&bound)->sin6_port);

  sock_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  s->holds = 2;
  s->family = family;
  if (napi_add_async_cleanup_hook(env, on_teardown, s, &s->cleanup) != napi_ok) {
    close(fd);
    free(s);
    return throw_errno(env, "open", ENOMEM);
  }
  napi_value handle, out, pv;
  CHECK(env, napi_create_external(env, s, on_handle_gone, NULL, &handle));
  CHECK(env, napi_create_array_with_length(env, 2, &out));
  CHECK(env, napi_create_int32(env, bport, &pv));
  CHECK(env, napi_set_element(env, out, 0, handle));
  CHECK(env, napi_set_element(env, out, 1, pv));
  return out;
}

static sock_t *unwrap(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "EINVAL", "not a socket handle");
    return NULL;
  }
  return p;
}

static int buffer_of(napi_env env, napi_value v, size_t need, void **data) {
  napi_typedarray_type type;
  size_t len, offset;
  napi_value ab;
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_typedarray_info(env, v, &type, &len, data, &ab, &offset) != napi_ok) return 0;
  size_t bytes = len * (type == napi_int32_array ? 4 : 1);
  return bytes >= need;
}

/* start(handle, batch, slot, in, out, meta: Int32Array, addr, onBatch(count)) */
static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) {
    napi_throw_type_error(env, "EINVAL", "start(handle, batch, slot, in, out, meta, addr, onBatch)");
    return NULL;
  }
  sock_t *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  uint32_t batch, slot;
  if (s->started || s->closed || napi_get_value_uint32(env, argv[1], &batch) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &slot) != napi_ok || batch == 0 || batch > MAX_BATCH || slot < 512) {
    napi_throw_type_error(env, "EINVAL", "start: bad state or arguments");
    return NULL;
  }
  void *in, *out, *meta, *addr;
  if (!buffer_of(env, argv[3], (size_t)batch * slot, &in) || !buffer_of(env, argv[4], (size_t)batch * slot, &out) ||
      !buffer_of(env, argv[5], (size_t)batch * 16, &meta) || !buffer_of(env, argv[6], (size_t)batch * 16, &addr)) {
    napi_throw_type_error(env, "EINVAL", "start: buffers too small for batch x slot");
    return NULL;
  }
  napi_valuetype t;
  if (napi_typeof(env, argv[7], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, "EINVAL", "start: onBatch must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  s->batch = batch;
  s->slot = slot;
  s->in = in;
  s->out = out;
  s->meta = meta;
  s->addr = addr;
  for (int i = 0; i < 5; i++) CHECK(env, napi_create_reference(env, argv[3 + i], 1, &s->refs[i]));
  napi_value name;
  CHECK(env, napi_create_string_utf8(env, "udp-batch", NAPI_AUTO_LENGTH, &name));
  CHECK(env, napi_async_init(env, NULL, name, &s->ctx));
  if (uv_poll_init(loop, &s->poll, s->fd) != 0) return throw_errno(env, "uv_poll_init", EINVAL);
  s->poll.data = s;
  s->started = 1;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc ? unwrap(env, argv[0]) : NULL;
  if (!s || s->closed) return NULL;
  shut(s);
  return NULL;
}

/* stats(handle) → [received, sent, sendDropped, oversize, batches, errors] */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = argc ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  CHECK(env, napi_create_array_with_length(env, ST_COUNT, &out));
  for (int i = 0; i < ST_COUNT; i++) {
    CHECK(env, napi_create_double(env, s->stats[i], &v));
    CHECK(env, napi_set_element(env, out, (uint32_t)i, v));
  }
  return out;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
