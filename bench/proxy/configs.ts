/** Configuration files of the reference servers: nginx as the 1 KiB backend and as a proxy, haproxy as a proxy. */

/** The response body every request gets: 1 KiB. */
export const BODY_BYTES = 1024;

const nginxCommon = (dir: string) => `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx-%NAME%.pid;
error_log ${dir}/nginx-%NAME%-error.log warn;
events { worker_connections 8192; }
`;

const nginxTemp = (dir: string) => `
  client_body_temp_path ${dir}/tmp-%NAME%-body;
  proxy_temp_path ${dir}/tmp-%NAME%-proxy;
  fastcgi_temp_path ${dir}/tmp-%NAME%-fcgi;
  uwsgi_temp_path ${dir}/tmp-%NAME%-uwsgi;
  scgi_temp_path ${dir}/tmp-%NAME%-scgi;
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
`;

/** nginx answering every request with 200 and a 1 KiB text body, keep-alive. */
export function nginxBackend(dir: string, port: number): string {
  return (nginxCommon(dir) + `http {${nginxTemp(dir)}
  default_type text/plain;
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location / { return 200 "${'x'.repeat(BODY_BYTES - 1)}\\n"; }
  }
}
`).replaceAll('%NAME%', 'backend');
}

/** nginx as a plain HTTP/1.1 reverse proxy with an upstream keep-alive pool. */
export function nginxProxy(dir: string, port: number, upstreamPort: number, name = 'proxy'): string {
  return (nginxCommon(dir) + `http {${nginxTemp(dir)}
  upstream be {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
`).replaceAll('%NAME%', name);
}

/** mTLS for one haproxy hop: `server` terminates it on the bind, `client` originates it to the server. */
export interface HaproxyTls {
  role: 'client' | 'server';
  /** Certificate and key in one PEM file (haproxy's crt). */
  crtFile: string;
  caFile: string;
}

/** haproxy (one thread) as an HTTP/1.1 reverse proxy, server connections reused; mTLS on one side with `tls`. */
export function haproxyProxy(port: number, upstreamPort: number, tls?: HaproxyTls): string {
  const bindTls = tls?.role === 'server' ? ` ssl crt ${tls.crtFile} ca-file ${tls.caFile} verify required` : '';
  const serverTls = tls?.role === 'client' ? ` ssl crt ${tls.crtFile} ca-file ${tls.caFile} verify required` : '';
  return `global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}${bindTls}
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:${upstreamPort} maxconn 1000${serverTls}
`;
}
