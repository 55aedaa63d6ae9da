/**
 * Every environment variable Trellis reads, in one place.
 * TRELLIS_LOG: "info" (default), "debug", "warn", "error", or per component
 *   as "xds=debug,config=warn" (a bare level sets the default).
 * TRELLIS_NATIVE_DISABLE=1: behave as if the native addon could not load
 *   (how tests check that capture listeners are refused, not run wrongly).
 * TRELLIS_HTTP1_ENGINE: "lean" (default), the proxy's hand-written HTTP/1.1 codec
 *   (src/proxy/h1/) on both sides; "node" for node:http downstream and undici upstream.
 * TRELLIS_STATE_FILE: where `trellis up` writes, and the CLI looks for, the
 *   running mesh's state file (default: see src/local/state-file.ts); lets
 *   several meshes run side by side (tests do).
 * XDG_RUNTIME_DIR: the per-user runtime directory (state file and `trellis
 *   up`'s runs for non-root users).
 */
export const env = {
  log: process.env.TRELLIS_LOG ?? 'info',
  nativeDisabled: process.env.TRELLIS_NATIVE_DISABLE === '1',
  stateFile: process.env.TRELLIS_STATE_FILE || undefined,
  xdgRuntimeDir: process.env.XDG_RUNTIME_DIR || undefined,
  http1Engine: (process.env.TRELLIS_HTTP1_ENGINE === 'node' ? 'node' : 'lean') as 'lean' | 'node',
};
