/*
 * Helpers shared by the addon's files: errno → JS Error with the errno's
 * name as `code`, and argument readers that throw a TypeError (code EINVAL)
 * on a wrong argument instead of reading garbage.
 */
#ifndef TRELLIS_NATIVE_COMMON_H
#define TRELLIS_NATIVE_COMMON_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

const char *errno_code(int e);
napi_value throw_errno(napi_env env, const char *what, int e);
napi_value throw_usage(napi_env env, const char *msg);
/* argv[i] as a non-negative int32 / uint32 / bool / string; 0 (and a pending exception) when it is not. */
int arg_fd(napi_env env, napi_value v, int32_t *out);
int arg_u32(napi_env env, napi_value v, uint32_t *out);
int arg_bool(napi_env env, napi_value v, bool *out);
int arg_string(napi_env env, napi_value v, char *buf, size_t size);
/* Up to `want` arguments; 0 with a TypeError when fewer than `need` were passed. */
int get_args(napi_env env, napi_callback_info info, size_t need, size_t want, napi_value *argv);
napi_value make_int(napi_env env, int32_t v);
/* Closes `fd` (a socket being set up) and throws errno's error for `what`. */
napi_value fail_closing(napi_env env, int fd, const char *what);

#endif
