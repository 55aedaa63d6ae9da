/*
 * Trellis native addon (C++ against the plain C N-API of node_api.h; no node-addon-api):
 *   getOriginalDst(fd) -> { address, port, family }   SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST
 *   setTransparent(fd)  -> undefined                   IP_TRANSPARENT / IPV6_TRANSPARENT
 *   setKeepalive(fd, idle, interval, count)            SO_KEEPALIVE + TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT
 * and, from netns_socket.cc and seqpacket.cc, sockets in other network
 * namespaces and the unix SOCK_SEQPACKET sockets of ZDS (see those files).
 * Errors are thrown as JS Errors whose `code` is the errno name (e.g. "ENOENT"
 * when the connection was not redirected by netfilter).
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#ifdef __linux__
#include <linux/netfilter_ipv4.h>  /* SO_ORIGINAL_DST */
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#endif

static int fd_arg(napi_env env, napi_callback_info info, int32_t *fd) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_typeof(env, argv[0], &t) != napi_ok || t != napi_number ||
      napi_get_value_int32(env, argv[0], fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, "EINVAL", "expected a file descriptor (non-negative integer)");
    return 0;
  }
  return 1;
}

static napi_value make_result(napi_env env, const char *addr, int port, int family) {
  napi_value obj, a, p, f;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, addr, NAPI_AUTO_LENGTH, &a);
  napi_create_int32(env, port, &p);
  napi_create_int32(env, family, &f);
  napi_set_named_property(env, obj, "address", a);
  napi_set_named_property(env, obj, "port", p);
  napi_set_named_property(env, obj, "family", f);
  return obj;
}

static int socket_family(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
  return ss.ss_family;
}

static napi_value get_original_dst(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_arg(env, info, &fd)) return NULL;
#ifdef __linux__
  int fam = socket_family(fd);
  if (fam < 0) return throw_errno(env, "getsockname", errno);
  char buf[INET6_ADDRSTRLEN];
  if (fam == AF_INET6) {
    struct sockaddr_in6 sa6;
    socklen_t len = sizeof sa6;
    memset(&sa6, 0, sizeof sa6);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &sa6, &len) == 0) {
      /* An IPv4 connection on a dual-stack socket is reported as v4-mapped. */
      inet_ntop(AF_INET6, &sa6.sin6_addr, buf, sizeof buf);
      return make_result(env, buf, ntohs(sa6.sin6_port), 6);
    }
    if (errno != ENOENT && errno != ENOPROTOOPT) return throw_errno(env, "getsockopt(IP6T_SO_ORIGINAL_DST)", errno);
    /* fall through: IPv4 traffic on a dual-stack socket answers to SOL_IP */
  } else if (fam != AF_INET) {
    return throw_errno(env, "getOriginalDst", EOPNOTSUPP);
  }
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &sa, &len) != 0) return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
  inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf);
  return make_result(env, buf, ntohs(sa.sin_port), 4);
#else
  return throw_errno(env, "getOriginalDst (Linux only)", EOPNOTSUPP);
#endif
}

static napi_value set_transparent(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!fd_arg(env, info, &fd)) return NULL;
#ifdef __linux__
  int one = 1;
  int fam = socket_family(fd);
  if (fam < 0) return throw_errno(env, "getsockname", errno);
  if (fam == AF_INET6) {
    if (setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one) != 0) return throw_errno(env, "setsockopt(IPV6_TRANSPARENT)", errno);
  }
  /* Also on IPv6 sockets: IPv4 connections on a dual-stack socket need IP_TRANSPARENT. */
  if (setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0 && fam == AF_INET) {
    return throw_errno(env, "setsockopt(IP_TRANSPARENT)", errno);
  }
  return NULL;
#else
  return throw_errno(env, "setTransparent (Linux only)", EOPNOTSUPP);
#endif
}

/*
 * TCP keepalive with all three timers (Envoy's upstream tcp_keepalive): Node's
 * setKeepAlive sets only the idle time. A value of 0 leaves the system's.
 */
static napi_value set_keepalive(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t v[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) {
    napi_throw_type_error(env, "EINVAL", "expected (fd, idle, interval, count)");
    return NULL;
  }
  for (int i = 0; i < 4; i++) {
    if (napi_get_value_int32(env, argv[i], &v[i]) != napi_ok || v[i] < 0) {
      napi_throw_type_error(env, "EINVAL", "expected non-negative integers (fd, idle, interval, count)");
      return NULL;
    }
  }
#ifdef __linux__
  int one = 1;
  if (setsockopt(v[0], SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0) return throw_errno(env, "setsockopt(SO_KEEPALIVE)", errno);
  if (v[1] > 0 && setsockopt(v[0], IPPROTO_TCP, TCP_KEEPIDLE, &v[1], sizeof v[1]) != 0) return throw_errno(env, "setsockopt(TCP_KEEPIDLE)", errno);
  if (v[2] > 0 && setsockopt(v[0], IPPROTO_TCP, TCP_KEEPINTVL, &v[2], sizeof v[2]) != 0) return throw_errno(env, "setsockopt(TCP_KEEPINTVL)", errno);
  if (v[3] > 0 && setsockopt(v[0], IPPROTO_TCP, TCP_KEEPCNT, &v[3], sizeof v[3]) != 0) return throw_errno(env, "setsockopt(TCP_KEEPCNT)", errno);
  return NULL;
#else
  return throw_errno(env, "setKeepalive (Linux only)", EOPNOTSUPP);
#endif
}

napi_value open_netns(napi_env env, napi_callback_info info);
napi_value close_fd(napi_env env, napi_callback_info info);
napi_value listen_in_netns(napi_env env, napi_callback_info info);
napi_value socket_from_netns(napi_env env, napi_callback_info info);
napi_value seqpacket_listen(napi_env env, napi_callback_info info);
napi_value seqpacket_connect(napi_env env, napi_callback_info info);
napi_value seqpacket_accept(napi_env env, napi_callback_info info);
napi_value seqpacket_send(napi_env env, napi_callback_info info);
napi_value seqpacket_recv(napi_env env, napi_callback_info info);
napi_value watch_readable(napi_env env, napi_callback_info info);
napi_value unwatch(napi_env env, napi_callback_info info);

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"getOriginalDst", NULL, get_original_dst, NULL, NULL, NULL, napi_default, NULL},
    {"setTransparent", NULL, set_transparent, NULL, NULL, NULL, napi_default, NULL},
    {"setKeepalive", NULL, set_keepalive, NULL, NULL, NULL, napi_default, NULL},
    {"openNetns", NULL, open_netns, NULL, NULL, NULL, napi_default, NULL},
    {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
    {"listenInNetns", NULL, listen_in_netns, NULL, NULL, NULL, napi_default, NULL},
    {"socketFromNetns", NULL, socket_from_netns, NULL, NULL, NULL, napi_default, NULL},
    {"seqpacketListen", NULL, seqpacket_listen, NULL, NULL, NULL, napi_default, NULL},
    {"seqpacketConnect", NULL, seqpacket_connect, NULL, NULL, NULL, napi_default, NULL},
    {"seqpacketAccept", NULL, seqpacket_accept, NULL, NULL, NULL, napi_default, NULL},
    {"seqpacketSend", NULL, seqpacket_send, NULL, NULL, NULL, napi_default, NULL},
    {"seqpacketRecv", NULL, seqpacket_recv, NULL, NULL, NULL, napi_default, NULL},
    {"watchReadable", NULL, watch_readable, NULL, NULL, NULL, napi_default, NULL},
    {"unwatch", NULL, unwatch, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
