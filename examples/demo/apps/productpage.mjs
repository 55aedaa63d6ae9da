/**
 * productpage: the front page (HTML). For each view it calls details and
 * reviews (HTTP) at the same time and shows what came back: the book's
 * details, the reviews with their stars, which reviews version answered —
 * and, plainly, what failed and why (a status and the body the mesh sent,
 * e.g. "HTTP 403: RBAC: access denied").
 *
 *   GET  /  (or /productpage)   the page; answers with x-reviews-version: v1|v2|v3|unavailable
 *   POST /login  user=NAME      signs in (a cookie); the page then sends end-user: NAME downstream
 *   GET  /logout                signs out
 *   GET  /health                ok
 *
 * The user is the request's end-user header if it has one (what curl and
 * the load generator send), else the signed-in user. It is passed on as
 * end-user, with the trace headers, on both calls: that is what lets the
 * reviews VirtualService route one user to another version.
 *
 * Environment:
 *   POD_IP, PORT                        where to listen (0.0.0.0:9080 without them)
 *   DETAILS_SERVICE_HOST/PORT           details' address (kubelet's service variables; else details:9080)
 *   REVIEWS_SERVICE_HOST/PORT           reviews' address (else reviews:9080)
 *   UPSTREAM_TIMEOUT_MS                 how long to wait for each of them (3000)
 */
import { createServer } from 'node:http';
import { intFromEnv, listenHost, listenPort, logger, onShutdown, propagatedHeaders, serviceAddress, validUser } from './lib.mjs';

const log = logger('productpage');
const detailsUrl = `http://${serviceAddress('details', 9080)}`;
const reviewsUrl = `http://${serviceAddress('reviews', 9080)}`;
const upstreamTimeoutMs = intFromEnv('UPSTREAM_TIMEOUT_MS', 3000, 1, 600_000);
/** An answer from details or reviews is a few hundred bytes; anything this large is a fault, not a page to render. */
const MAX_UPSTREAM_BYTES = 64 * 1024;
const PRODUCT = {
  id: 0,
  title: 'Frankenstein; or, The Modern Prometheus',
  summary: 'A young scientist builds a living being from what he finds in charnel houses, and flees from it the night it opens its eyes. Told in letters from an Arctic voyage, it asks what we owe to what we make.',
};

/** GET `url` with `headers`: {ok, status, json} or {ok: false, error} — never throws. */
async function call(url, headers) {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(upstreamTimeoutMs) });
    const text = await readBounded(res);
    if (!res.ok) return { ok: false, error: `HTTP ${res.status}${text.trim() ? `: ${text.trim().slice(0, 300)}` : ''}` };
    return { ok: true, status: res.status, json: JSON.parse(text) };
  } catch (err) {
    if (err?.name === 'TimeoutError') return { ok: false, error: `no answer within ${upstreamTimeoutMs} ms` };
    // fetch says "fetch failed" and keeps the reason (ECONNREFUSED, a reset, …) in err.cause.
    const cause = err?.cause;
    return { ok: false, error: cause ? `${cause.code ?? ''} ${cause.message ?? cause}`.trim() : String(err?.message ?? err) };
  }
}

async function readBounded(res) {
  const chunks = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > MAX_UPSTREAM_BYTES) throw new Error(`answer larger than ${MAX_UPSTREAM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function userOf(req) {
  const fromHeader = validUser(req.headers['end-user']);
  if (fromHeader) return fromHeader;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === 'user') return validUser(v);
  }
  return undefined;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function stars(rating) {
  const n = Math.max(0, Math.min(5, rating.stars));
  return `<span class="stars" style="color:${esc(rating.color)}" title="${n} of 5">${'★'.repeat(n)}</span><span class="stars empty">${'☆'.repeat(5 - n)}</span>`;
}

function detailsHtml(d) {
  if (!d.ok) return `<p class="error">Details are unavailable: ${esc(d.error)}</p>`;
  const rows = Object.entries(d.json).filter(([k]) => k !== 'id');
  return `<table class="details">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function reviewsHtml(r) {
  if (!r.ok) return `<p class="error">Reviews are unavailable: ${esc(r.error)}</p>`;
  const { version, pod, reviews = [], ratingsError } = r.json;
  const items = reviews.map((x) => `<blockquote><p>${esc(x.text)}</p><footer>— ${esc(x.reviewer)} ${x.rating ? stars(x.rating) : ''}</footer></blockquote>`);
  return `<p class="served">Reviews served by <strong>reviews ${esc(version)}</strong> (pod ${esc(pod)})</p>
${ratingsError ? `<p class="error">Ratings are unavailable: ${esc(ratingsError)}</p>` : ''}${items.join('\n')}`;
}

function page(user, details, reviews) {
  const who = user
    ? `Signed in as <strong>${esc(user)}</strong> · <a href="/logout">sign out</a>`
    : `<form method="post" action="/login">Sign in as <input name="user" size="10" placeholder="jason"> <button>sign in</button></form>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(PRODUCT.title)} · Trellis demo</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
.user{float:right;font-size:.9rem}.error{background:#fde8e8;border-left:4px solid #c00;padding:.5rem .75rem}
.details th{text-align:left;padding-right:1rem;font-weight:600}.served{color:#555;font-size:.9rem}
blockquote{margin:1rem 0;padding-left:1rem;border-left:3px solid #ddd}.stars{font-size:1.2rem}.stars.empty{color:#bbb}
</style></head>
<body>
<div class="user">${who}</div>
<h1>${esc(PRODUCT.title)}</h1>
<p>${esc(PRODUCT.summary)}</p>
<h2>Details</h2>
${detailsHtml(details)}
<h2>Reviews</h2>
${reviewsHtml(reviews)}
</body></html>
`;
}

async function frontPage(req, res) {
  const user = userOf(req);
  const headers = propagatedHeaders(req.headers);
  if (user) headers['end-user'] = user;
  else delete headers['end-user'];
  const [details, reviews] = await Promise.all([
    call(`${detailsUrl}/details/${PRODUCT.id}`, headers),
    call(`${reviewsUrl}/reviews/${PRODUCT.id}`, headers),
  ]);
  const html = page(user, details, reviews);
  // A page with a failed part is still the page a reader should see (200); the header tells a script which reviews answered.
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'x-reviews-version': reviews.ok ? String(reviews.json.version ?? 'unknown') : 'unavailable',
  });
  res.end(html);
}

async function readForm(req, limit) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) throw Object.assign(new Error('form too large'), { status: 413 });
  }
  return new URLSearchParams(body);
}

function send(res, status, text, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const server = createServer(async (req, res) => {
  try {
    const path = new URL(req.url ?? '/', 'http://productpage').pathname;
    if (path === '/health') return send(res, 200, 'ok\n');
    if (req.method === 'GET' && (path === '/' || path === '/productpage')) return await frontPage(req, res);
    if (req.method === 'POST' && path === '/login') {
      const user = validUser((await readForm(req, 1024)).get('user') ?? '');
      if (!user) return send(res, 400, 'a user name is 1 to 64 letters, digits, ".", "_" or "-"\n');
      return send(res, 303, 'signed in\n', { location: '/', 'set-cookie': `user=${user}; Path=/; HttpOnly; SameSite=Lax` });
    }
    if (req.method === 'GET' && path === '/logout') {
      return send(res, 303, 'signed out\n', { location: '/', 'set-cookie': 'user=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax' });
    }
    send(res, 404, `no such page: ${req.method} ${path}\n`);
  } catch (err) {
    if (err?.status === 413) return send(res, 413, `${err.message}\n`);
    log(`error serving ${req.url}: ${err?.stack ?? err}`);
    if (!res.headersSent) send(res, 500, 'internal error\n');
    else res.destroy();
  }
});

server.on('error', (err) => {
  process.stderr.write(`productpage: cannot listen on ${listenHost()}:${listenPort()}: ${err.message}\n`);
  process.exit(1);
});
server.listen(listenPort(), listenHost(), () => {
  const { address, port } = server.address();
  log(`listening on ${address}:${port} (HTTP), details at ${detailsUrl}, reviews at ${reviewsUrl}`);
});

onShutdown(async () => {
  server.closeIdleConnections();
  await new Promise((resolve) => server.close(() => resolve()));
});
