/**
 * reviews: an HTTP server with what readers wrote about a product. One
 * program, three versions, chosen by VERSION — the canary the mesh splits
 * traffic between:
 *   v1  the reviews only
 *   v2  with each reviewer's stars from ratings (gRPC), black
 *   v3  the same, red
 *
 *   GET /reviews/0  → {"id":0,"version":"v2","pod":"…","reviews":[{"reviewer":"Ada","text":"…","rating":{"stars":5,"color":"black"}}]}
 *   GET /health     → ok
 *
 * When ratings fails, the reviews are still served, with "ratingsError"
 * saying why (the gRPC status as the client saw it).
 *
 * Environment:
 *   VERSION                    v1, v2 or v3 (required)
 *   POD_IP, PORT               where to listen (0.0.0.0:9080 without them)
 *   POD_NAME                   reported in each answer
 *   RATINGS_SERVICE_HOST/PORT  ratings' address (kubelet's service variables; else ratings:9080)
 *   RATINGS_DEADLINE_MS        the gRPC deadline of a ratings call (5000)
 */
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { intFromEnv, listenHost, listenPort, logger, onShutdown, propagatedHeaders, serviceAddress } from './lib.mjs';
import { ratingsService } from './ratings-api.mjs';

const log = logger('reviews');
const STAR_COLOR = { v1: undefined, v2: 'black', v3: 'red' };
const version = process.env.VERSION;
if (!Object.hasOwn(STAR_COLOR, version ?? '')) {
  process.stderr.write(`reviews: VERSION must be v1, v2 or v3 (got ${JSON.stringify(version)})\n`);
  process.exit(2);
}
const starColor = STAR_COLOR[version];
const pod = process.env.POD_NAME || `reviews-${version}`;
// Longer than the mesh's timeout on ratings (ratings.yaml), so that what a reader of the demo sees is the mesh's limit, not this one.
const ratingsDeadlineMs = intFromEnv('RATINGS_DEADLINE_MS', 5000, 1, 600_000);

/** What readers wrote, by product id. */
const REVIEWS = new Map([
  [0, [
    { reviewer: 'Ada', text: 'Read it in one night with every lamp in the house switched on. The letters at the start and the end frame it beautifully.' },
    { reviewer: 'Grace', text: 'The creature gets the best lines. Slow in the middle, but the ice at the end stays with you.' },
  ]],
]);

const Ratings = grpc.makeGenericClientConstructor(ratingsService, 'Ratings');
const ratingsTarget = serviceAddress('ratings', 9080);
// One channel for the life of the process: gRPC multiplexes calls over it and reconnects by itself.
const ratings = starColor === undefined ? undefined : new Ratings(ratingsTarget, grpc.credentials.createInsecure());

/** Stars by reviewer from ratings, passing on the caller's end-user and trace headers as gRPC metadata. */
function fetchRatings(productId, headers) {
  const metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(propagatedHeaders(headers))) metadata.set(name, value);
  return new Promise((resolve, reject) => {
    ratings.GetRatings({ productId }, metadata, { deadline: Date.now() + ratingsDeadlineMs }, (err, reply) => {
      if (err) reject(err);
      else resolve(reply?.ratings ?? {});
    });
  });
}

async function reviewsOf(productId, headers) {
  const reviews = REVIEWS.get(productId);
  if (reviews === undefined) return undefined;
  const body = { id: productId, version, pod, reviews: reviews.map((r) => ({ ...r })) };
  if (ratings === undefined) return body;
  try {
    const stars = await fetchRatings(productId, headers);
    for (const r of body.reviews) {
      const n = stars[r.reviewer];
      if (Number.isInteger(n)) r.rating = { stars: n, color: starColor };
    }
  } catch (err) {
    // grpc-js words it as "14 UNAVAILABLE: …": the code a reader can look up, and the reason.
    body.ratingsError = `ratings unavailable: ${err.message}`;
  }
  return body;
}

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer(async (req, res) => {
  try {
    const path = new URL(req.url ?? '/', 'http://reviews').pathname;
    if (path === '/health') return send(res, 200, 'ok\n');
    const m = /^\/reviews\/(\d{1,9})$/.exec(path);
    if (req.method !== 'GET' || !m) return send(res, 404, { error: `no such resource: ${req.method} ${path}` });
    const body = await reviewsOf(Number(m[1]), req.headers);
    if (body === undefined) return send(res, 404, { error: `no reviews for product ${m[1]}` });
    send(res, 200, body);
  } catch (err) {
    log(`error serving ${req.url}: ${err?.stack ?? err}`);
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
    else res.destroy();
  }
});

server.on('error', (err) => {
  process.stderr.write(`reviews: cannot listen on ${listenHost()}:${listenPort()}: ${err.message}\n`);
  process.exit(1);
});
server.listen(listenPort(), listenHost(), () => {
  const { address, port } = server.address();
  log(`listening on ${address}:${port} (HTTP), version ${version}${ratings ? `, ratings at ${ratingsTarget} (gRPC)` : ', no ratings'}`);
});

onShutdown(async () => {
  ratings?.close();
  server.closeIdleConnections();
  await new Promise((resolve) => server.close(() => resolve()));
});
