/*
 * AF_UNIX SOCK_SEQPACKET sockets with SCM_RIGHTS (the transport of Istio's
 * ZDS protocol: one protobuf message per packet, a pod's netns fd riding
 * along), which Node's net module cannot open or read:
 *   seqpacketListen(path, backlog) -> fd      seqpacketConnect(path) -> fd (throws EAGAIN when the backlog is full)
 *   seqpacketAccept(fd) -> fd | -1 (none waiting)
 *   seqpacketSend(fd, buffer, passFd | -1)    MSG_NOSIGNAL: a gone peer is EPIPE, never SIGPIPE
 *   seqpacketRecv(fd, max) -> null (nothing waiting) | { data, fds, truncated }   data.length 0: the peer closed
 *   watchReadable(fd, callback) -> handle     unwatch(handle)
 * Every socket is non-blocking: nothing here ever blocks the JS thread.
 * Linux only, as this whole file (native/build.mjs builds the addon on Linux alone).
 * watchReadable puts the fd in libuv's own poll set (uv_poll_t), so the
 * callback runs from the event loop when the fd is readable, like any
 * socket's 'data' — no thread per connection, no polling timer.
 */
#include "common.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

/* Enough for the one fd ZDS sends; a few more so that a peer sending several is told, not silently cut. */
#define MAX_FDS 4

/* A new non-blocking seqpacket socket and the address of `path`; -1 with the error thrown. */
static int unix_socket(napi_env env, const char *path, struct sockaddr_un *sa) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa->sun_path) return throw_errno(env, path, ENAMETOOLONG), -1;
  strcpy(sa->sun_path, path);
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(env, "socket(AF_UNIX, SOCK_SEQPACKET)", errno);
  return fd;
}

napi_value seqpacket_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[256];
  int32_t backlog;
  if (!get_args(env, info, 2, 2, argv) || !arg_string(env, argv[0], path, sizeof path) || !arg_fd(env, argv[1], &backlog)) return NULL;
  struct sockaddr_un sa;
  int fd = unix_socket(env, path, &sa);
  if (fd < 0) return NULL;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, backlog) != 0) return fail_closing(env, fd, path);
  return make_int(env, fd);
}

napi_value seqpacket_connect(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  char path[256];
  if (!get_args(env, info, 1, 1, argv) || !arg_string(env, argv[0], path, sizeof path)) return NULL;
  struct sockaddr_un sa;
  int fd = unix_socket(env, path, &sa);
  if (fd < 0) return NULL;
  // A unix connect completes at once or fails (EAGAIN: the listener's backlog is full); it is never in progress.
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return fail_closing(env, fd, path);
  return make_int(env, fd);
}

napi_value seqpacket_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, 1, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR) return make_int(env, -1);
    return throw_errno(env, "accept", errno);
  }
  return make_int(env, c);
}

napi_value seqpacket_send(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t fd, pass;
  void *data;
  size_t len;
  if (!get_args(env, info, 3, 3, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) return throw_usage(env, "expected a Buffer");
  if (napi_get_value_int32(env, argv[2], &pass) != napi_ok) return throw_usage(env, "expected an fd to pass, or -1");
  struct iovec iov = {data, len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  if (pass >= 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass, sizeof(int));
  }
  ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
  if (n < 0) return throw_errno(env, "sendmsg", errno);
  return NULL;
}

napi_value seqpacket_recv(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd, max;
  if (!get_args(env, info, 2, 2, argv) || !arg_fd(env, argv[0], &fd) || !arg_fd(env, argv[1], &max)) return NULL;
  if (max == 0 || max > 1 << 20) return throw_usage(env, "expected a receive size of 1 byte to 1 MiB");
  void *data;
  napi_value buffer;
  if (napi_create_buffer(env, max, &data, &buffer) != napi_ok) return NULL;
  struct iovec iov = {data, (size_t)max};
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      napi_value null;
      napi_get_null(env, &null);
      return null;
    }
    return throw_errno(env, "recvmsg", errno);
  }
  napi_value fds, out, slice, truncated;
  napi_create_array(env, &fds);
  uint32_t count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      napi_set_element(env, fds, count++, make_int(env, got));
    }
  }
  // The caller owns every fd returned, and closes those it does not want.
  napi_create_buffer_copy(env, (size_t)n, data, NULL, &slice);
  napi_get_boolean(env, (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0, &truncated);
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "data", slice);
  napi_set_named_property(env, out, "fds", fds);
  napi_set_named_property(env, out, "truncated", truncated);
  return out;
}

struct Watch {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  bool closed;
};

static void on_readable(uv_poll_t *handle, int status, int) {
  Watch *w = (Watch *)handle->data;
  if (w->closed) return;
  napi_handle_scope scope;
  napi_open_handle_scope(w->env, &scope);
  napi_value cb, recv, result, arg = make_int(w->env, status);
  napi_get_reference_value(w->env, w->callback, &cb);
  napi_get_global(w->env, &recv);
  // make_callback, not call_function: the promises the callback settles run their reactions when it returns.
  if (napi_make_callback(w->env, w->context, recv, cb, 1, &arg, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(w->env, &err);
    napi_fatal_exception(w->env, err);
  }
  napi_close_handle_scope(w->env, scope);
}

static void on_closed(uv_handle_t *handle) {
  Watch *w = (Watch *)handle->data;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  delete w;
}

napi_value watch_readable(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  napi_valuetype t;
  if (!get_args(env, info, 2, 2, argv) || !arg_fd(env, argv[0], &fd)) return NULL;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) return throw_usage(env, "expected a callback");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, "no event loop", EINVAL);
  Watch *w = new Watch();
  w->env = env;
  w->closed = false;
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r != 0) {
    delete w;
    return throw_errno(env, "uv_poll_init", -r);
  }
  w->poll.data = w;
  napi_value name, handle;
  napi_create_string_utf8(env, "trellis.seqpacket", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &w->callback);
  napi_async_init(env, NULL, name, &w->context);
  r = uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, on_readable);
  if (r != 0) {
    w->closed = true;
    uv_close((uv_handle_t *)&w->poll, on_closed);
    return throw_errno(env, "uv_poll_start", -r);
  }
  napi_create_external(env, w, NULL, NULL, &handle);
  return handle;
}

/* Stops the watch; the fd must stay open until this is called (libuv's rule), and may be closed right after. */
napi_value unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *p;
  if (!get_args(env, info, 1, 1, argv) || napi_get_value_external(env, argv[0], &p) != napi_ok) return throw_usage(env, "expected a watch handle");
  Watch *w = (Watch *)p;
  if (!w->closed) {
    w->closed = true;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_closed);
  }
  return NULL;
}
