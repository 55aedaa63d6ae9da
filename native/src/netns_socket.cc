/*
 * Sockets in other network namespaces, for the node proxy's listeners and
 * connections inside pods and for reaching a pod's 127.0.0.1:
 *   openNetns(path)                                      an fd naming a network namespace (checked to be one)
 *   closeFd(fd)
 *   listenInNetns(nsFd, host, port, mark, transparent, backlog)   bound and listening; SO_REUSEADDR, SO_MARK, IP_TRANSPARENT
 *   socketFromNetns(nsFd, mark, sourceIp)                unconnected; SO_MARK; with sourceIp IP_TRANSPARENT + bind(sourceIp, 0)
 * A mark of 0 sets no SO_MARK (0 is every socket's mark anyway).
 * (socketInNetns(path) of src/native is openNetns + socketFromNetns.) Linux only,
 * as this whole file (native/build.mjs builds the addon on Linux alone).
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE _IO(0xb7, 0x3)
#endif

/*
 * A socket belongs to the network namespace its creator was in when it was
 * made, for its whole life; bind, listen, setsockopt and connect act in the
 * socket's namespace whatever the caller's is. So only socket() runs in the
 * target: enter it on this (the JS) thread, socket(), go back at once — the
 * thread is elsewhere for two syscalls and nothing else runs on it
 * meanwhile. Failing to go back would leave every later socket of the
 * process in the pod: fatal. Returns the fd, or -1 with *err set.
 */
static int socket_in(int nsfd, int family, int *err) {
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    *err = errno;
    return -1;
  }
  if (setns(nsfd, CLONE_NEWNET) != 0) {
    *err = errno;
    close(self);
    return -1;
  }
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  *err = errno;
  if (setns(self, CLONE_NEWNET) != 0) napi_fatal_error("trellis_native", NAPI_AUTO_LENGTH, "cannot return to the process's network namespace", NAPI_AUTO_LENGTH);
  close(self);
  return fd;
}

/* A literal IPv4 or IPv6 address and a port as a sockaddr; 0 when `host` is neither. */
static int parse_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *sa = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &sa->sin_addr) == 1) {
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    *len = sizeof *sa;
    return 1;
  }
  if (inet_pton(AF_INET6, host, &sa6->sin6_addr) == 1) {
    sa6->sin6_family = AF_INET6;
    sa6->sin6_port = htons(port);
    *len = sizeof *sa6;
    return 1;
  }
  return 0;
}

/* SO_MARK (when non-zero) and IP_TRANSPARENT (when asked); the failing option's name in *what. */
static int set_options(int fd, int family, uint32_t mark, bool transparent, const char **what) {
  int one = 1;
  if (mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) return *what = "setsockopt(SO_MARK)", -1;
  if (transparent) {
    if (family == AF_INET6 && setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one) != 0) return *what = "setsockopt(IPV6_TRANSPARENT)", -1;
    if (family == AF_INET && setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) != 0) return *what = "setsockopt(IP_TRANSPARENT)", -1;
  }
  return 0;
}


napi_value open_netns(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[4096];
  if (!get_args(env, info, 1, 1, argv) || !arg_string(env, argv[0], path, sizeof path)) return NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, path, errno);
  // Another kind of file (or namespace) would make setns fail later, far from the mistake.
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    close(fd);
    char what[4200];
    snprintf(what, sizeof what, "%s is not a network namespace", path);
    return throw_errno(env, what, EINVAL);
  }
  return make_int(env, fd);
}

napi_value close_fd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, 1, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  if (close(fd) != 0 && errno != EINTR) return throw_errno(env, "close", errno);
  return NULL;
}

napi_value listen_in_netns(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t nsfd, port, backlog;
  uint32_t mark;
  bool transparent;
  char host[INET6_ADDRSTRLEN + 1];
  if (!get_args(env, info, 6, 6, argv) || !arg_fd(env, argv[0], &nsfd) || !arg_string(env, argv[1], host, sizeof host) ||
      !arg_fd(env, argv[2], &port) || !arg_u32(env, argv[3], &mark) || !arg_bool(env, argv[4], &transparent) || !arg_fd(env, argv[5], &backlog)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len;
  if (port > 65535 || !parse_addr(host, port, &ss, &len)) return throw_usage(env, "expected an IP address and a port (0-65535)");
  int e = 0;
  int fd = socket_in(nsfd, ss.ss_family, &e);
  if (fd < 0) return throw_errno(env, "socket in network namespace", e);
  int one = 1;
  const char *what = "setsockopt(SO_REUSEADDR)";
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 || set_options(fd, ss.ss_family, mark, transparent, &what) != 0) return fail_closing(env, fd, what);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) return fail_closing(env, fd, "bind");
  if (listen(fd, backlog) != 0) return fail_closing(env, fd, "listen");
  return make_int(env, fd);
}

napi_value socket_from_netns(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t nsfd;
  uint32_t mark;
  char source[INET6_ADDRSTRLEN + 1];
  if (!get_args(env, info, 3, 3, argv) || !arg_fd(env, argv[0], &nsfd) || !arg_u32(env, argv[1], &mark) || !arg_string(env, argv[2], source, sizeof source)) return NULL;
  struct sockaddr_storage ss;
  socklen_t len = 0;
  bool bindSource = source[0] != '\0';
  if (bindSource && !parse_addr(source, 0, &ss, &len)) return throw_usage(env, "expected the source as an IP address");
  int family = bindSource ? ss.ss_family : AF_INET;
  int e = 0;
  int fd = socket_in(nsfd, family, &e);
  if (fd < 0) return throw_errno(env, "socket in network namespace", e);
  const char *what = "";
  if (set_options(fd, family, mark, bindSource, &what) != 0) return fail_closing(env, fd, what);
  // Port 0: the kernel picks one, as connect() would.
  if (bindSource && bind(fd, (struct sockaddr *)&ss, len) != 0) return fail_closing(env, fd, "bind to the source address");
  return make_int(env, fd);
}
