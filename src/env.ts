/**
 * Every environment variable Trellis reads, in one place.
 * TRELLIS_LOG: "info" (default), "debug", "warn", "error", or per component
 *   as "xds=debug,config=warn" (a bare level sets the default).
 */
export const env = {
  log: process.env.TRELLIS_LOG ?? 'info',
};
