/**
 * The demo's apps on their own, without the mesh: each a plain process with
 * the environment `trellis up` gives it (POD_IP, PORT — 0 here, so tests
 * never collide — and kubelet's {NAME}_SERVICE_HOST/PORT wiring them
 * together). The front page shows details and reviews; reviews v2/v3 get
 * their stars from ratings over real gRPC; end-user and the trace headers
 * travel down both hops; errors are shown, not hidden; loadgen and
 * plain-client report what they did; every app ends on SIGTERM.
 *
 * Test doubles stand in for a downstream service only where the test must
 * see what an app sent (headers, gRPC metadata) or make it fail on purpose.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { freePort } from '../../helpers/ports.js';
import { DemoApp, onPath, STOP_GRACE_MS, type Exit } from './demo-apps.js';

const python = onPath('python3');
const noPython = python ? false : 'python3 is not on PATH (Debian: apt-get install python3); details is a Python app';

/** The ratings contract as a client outside the demo sees it: the method path and JSON bodies, written out here on purpose. */
const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString('utf8')) as unknown };
const ratingsDefinition = {
  GetRatings: {
    path: '/trellis.demo.Ratings/GetRatings',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} satisfies grpc.ServiceDefinition;
const RatingsClient = grpc.makeGenericClientConstructor(ratingsDefinition, 'Ratings');

interface ReviewsBody {
  version: string;
  pod: string;
  reviews: { reviewer: string; text: string; rating?: { stars: number; color: string } }[];
  ratingsError?: string;
}

/** An HTTP server standing in for details or reviews: records each request, answers with `respond`. */
class HttpDouble {
  readonly requests: { path: string; headers: IncomingHttpHeaders }[] = [];
  readonly server: Server;
  port = 0;
  constructor(respond: (path: string, headers: IncomingHttpHeaders, res: ServerResponse) => void) {
    this.server = createServer((req, res) => {
      this.requests.push({ path: req.url ?? '', headers: req.headers });
      respond(req.url ?? '', req.headers, res);
    });
  }
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Kubelet's variables for a Service reachable at host:port. */
const serviceEnv = (name: string, port: number, host = '127.0.0.1'): Record<string, string> => ({
  [`${name.toUpperCase()}_SERVICE_HOST`]: host,
  [`${name.toUpperCase()}_SERVICE_PORT`]: String(port),
});

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function getRatings(port: number, productId: unknown): Promise<{ ratings: Record<string, number>; pod: string }> {
  const client = new RatingsClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.GetRatings({ productId }, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, reply: { ratings: Record<string, number>; pod: string }) => {
      client.close();
      if (err) reject(err);
      else resolve(reply);
    });
  });
}

/** Waits (polling, bounded by `ms`) until `app` printed `count` lines matching `re`; returns the first `count`. */
async function linesMatching(app: DemoApp, re: RegExp, count: number, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = app.lines.filter((l) => re.test(l));
    if (found.length >= count) return found.slice(0, count);
    if (Date.now() > deadline) throw new Error(`${app.name}: ${found.length} of ${count} lines matching ${re} within ${ms} ms:\n${app.lines.join('\n')}\n${app.stderr.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the demo apps without the mesh', () => {
  const apps: DemoApp[] = [];
  const doubles: { close(): Promise<void> }[] = [];
  const stopped = new Map<string, Exit>();
  let closedPort: number;
  const port: Record<string, number> = {};

  /** Starts an app with POD_IP/PORT/POD_NAME and `env`; resolves once it said where it listens (servers) or at once. */
  const start = async (name: string, program: string, script: string, env: Record<string, string>, server = true) => {
    const app = new DemoApp(name, program, script, { POD_IP: '127.0.0.1', PORT: '0', POD_NAME: name, ...env });
    apps.push(app);
    if (server) port[name] = (await app.listening()).port;
    return app;
  };

  before(async () => {
    // Nothing listens here: a service that is down.
    closedPort = await freePort();
    await start('ratings', 'node', 'apps/ratings.mjs', {});
    await Promise.all([
      python ? start('details', python, 'apps/details.py', { POD_IP: '127.0.0.2' }) : Promise.resolve(),
      ...['v1', 'v2', 'v3'].map((v) => start(`reviews-${v}`, 'node', 'apps/reviews.mjs', { VERSION: v, ...serviceEnv('ratings', port['ratings']!) })),
    ]);
    await start('productpage', 'node', 'apps/productpage.mjs', {
      POD_IP: '127.0.0.2',
      ...(python ? serviceEnv('details', port['details']!, '127.0.0.2') : serviceEnv('details', closedPort)),
      ...serviceEnv('reviews', port['reviews-v2']!),
    });
    // Only the IP is the pod's own: the test reaches details and productpage at 127.0.0.2, so the variables name it.
    for (const a of apps) if (a.name === 'productpage' || a.name === 'details') assert.equal((await a.listening()).host, '127.0.0.2');
  });

  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await Promise.all(doubles.map((d) => d.close()));
  });

  test('details (Python, standard library only) answers the book, 404 for others, /health', { skip: noPython }, async () => {
    const base = `http://127.0.0.2:${port['details']}`;
    const ok = await get(`${base}/details/0`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(JSON.parse(ok.text), {
      id: 0, author: 'Mary Shelley', year: 1818, type: 'paperback', pages: 280,
      publisher: 'Lackington, Hughes, Harding, Mavor & Jones (first edition)', language: 'English',
    });
    assert.equal((await get(`${base}/details/42`)).status, 404);
    assert.equal((await get(`${base}/nothing`)).status, 404);
    assert.equal((await get(`${base}/health`)).text, 'ok\n');
  });

  test('an app listens on POD_IP only, not on every address', async () => {
    const refused = (host: string, p: number) =>
      new Promise<boolean>((resolve) => {
        const s = connect(p, host);
        s.once('connect', () => (s.destroy(), resolve(false)));
        s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
      });
    assert.ok(await refused('127.0.0.3', port['productpage']!), 'productpage (Node) answered on another address');
    if (python) assert.ok(await refused('127.0.0.3', port['details']!), 'details (Python) answered on another address');
  });

  test('ratings answers over gRPC, with gRPC status codes for bad requests', async () => {
    const reply = await getRatings(port['ratings']!, 0);
    assert.deepEqual(reply.ratings, { Ada: 5, Grace: 3 });
    assert.equal(reply.pod, 'ratings');
    await assert.rejects(getRatings(port['ratings']!, 7), (err: grpc.ServiceError) => err.code === grpc.status.NOT_FOUND);
    await assert.rejects(getRatings(port['ratings']!, 'x'), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
  });

  test('reviews: v1 has no stars; v2 black and v3 red, each reviewer\'s from ratings', async () => {
    const fetchReviews = async (v: string) => {
      const r = await get(`http://127.0.0.1:${port[`reviews-${v}`]}/reviews/0`);
      assert.equal(r.status, 200, r.text);
      return JSON.parse(r.text) as ReviewsBody;
    };
    const v1 = await fetchReviews('v1');
    assert.equal(v1.version, 'v1');
    assert.equal(v1.pod, 'reviews-v1');
    assert.equal(v1.reviews.length, 2);
    assert.ok(v1.reviews.every((r) => r.rating === undefined && r.text.length > 0));
    for (const [v, color] of [['v2', 'black'], ['v3', 'red']] as const) {
      const body = await fetchReviews(v);
      assert.equal(body.ratingsError, undefined);
      assert.deepEqual(body.reviews.map((r) => [r.reviewer, r.rating]), [['Ada', { stars: 5, color }], ['Grace', { stars: 3, color }]]);
    }
    assert.equal((await get(`http://127.0.0.1:${port['reviews-v1']}/reviews/9`)).status, 404);
  });

  test('the front page shows the details, the reviews with their stars, and which reviews version answered', async () => {
    const page = await get(`http://127.0.0.2:${port['productpage']}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(page.headers.get('x-reviews-version'), 'v2');
    assert.match(page.text, /<h1>Frankenstein; or, The Modern Prometheus<\/h1>/);
    if (python) {
      assert.match(page.text, /<th>author<\/th><td>Mary Shelley<\/td>/);
      assert.match(page.text, /Lackington, Hughes, Harding, Mavor &amp; Jones/, 'details escaped into the page');
    } else {
      assert.match(page.text, /Details are unavailable: ECONNREFUSED/);
    }
    assert.match(page.text, /Reviews served by <strong>reviews v2<\/strong> \(pod reviews-v2\)/);
    assert.match(page.text, /— Ada <span class="stars" style="color:black" title="5 of 5">★★★★★<\/span>/);
    assert.match(page.text, /— Grace <span class="stars" style="color:black" title="3 of 5">★★★<\/span><span class="stars empty">☆☆<\/span>/);
    assert.doesNotMatch(page.text, python ? /unavailable/i : /Reviews are unavailable|Ratings are unavailable/);
    assert.equal((await get(`http://127.0.0.2:${port['productpage']}/productpage`)).status, 200);
    assert.equal((await get(`http://127.0.0.2:${port['productpage']}/health`)).text, 'ok\n');
  });

  test('end-user and the trace headers reach details and reviews, and ratings as gRPC metadata; nothing else is passed on', async () => {
    const reviewsDouble = new HttpDouble((_p, _h, res) => sendJson(res, 200, { version: 'v9', pod: 'double', reviews: [] }));
    const detailsDouble = new HttpDouble((_p, _h, res) => sendJson(res, 200, { id: 0, author: 'someone' }));
    doubles.push(await reviewsDouble.listen(), await detailsDouble.listen());
    await start('productpage-to-doubles', 'node', 'apps/productpage.mjs', { ...serviceEnv('details', detailsDouble.port), ...serviceEnv('reviews', reviewsDouble.port) });
    const base = `http://127.0.0.1:${port['productpage-to-doubles']}`;
    const trace = {
      'x-request-id': 'f0e1d2c3-0000-4000-8000-000000000001',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'vendor=1',
      b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1',
      'x-b3-traceid': '4bf92f3577b34da6a3ce929d0e0e4736',
      'x-b3-spanid': '00f067aa0ba902b7',
      'x-b3-sampled': '1',
    };
    const page = await get(`${base}/`, { 'end-user': 'jason', 'x-private': 'secret', ...trace });
    assert.equal(page.headers.get('x-reviews-version'), 'v9');
    assert.match(page.text, /Signed in as <strong>jason<\/strong>/);
    for (const d of [reviewsDouble, detailsDouble]) {
      assert.equal(d.requests.length, 1);
      const h = d.requests[0]!.headers;
      assert.equal(h['end-user'], 'jason');
      for (const [k, v] of Object.entries(trace)) assert.equal(h[k], v, `${k} on ${d.requests[0]!.path}`);
      assert.equal(h['x-private'], undefined, 'a header that is not for the next hop was passed on');
    }
    assert.deepEqual([reviewsDouble.requests[0]!.path, detailsDouble.requests[0]!.path], ['/reviews/0', '/details/0']);

    // Signed in with the form: the cookie's user becomes end-user downstream; a bad name is refused.
    const login = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ user: 'ada' }), redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    assert.equal(cookie, 'user=ada');
    await get(`${base}/`, { cookie });
    assert.equal(reviewsDouble.requests[1]!.headers['end-user'], 'ada');
    const bad = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ user: 'x\r\nset-cookie: a=b' }), redirect: 'manual' });
    assert.equal(bad.status, 400);
    await get(`${base}/`, { 'end-user': 'not a name' });
    assert.equal(reviewsDouble.requests[2]!.headers['end-user'], undefined, 'an invalid end-user is dropped, not forwarded');

    // reviews → ratings: the same headers as gRPC metadata.
    const seen: Record<string, unknown>[] = [];
    const server = new grpc.Server();
    server.addService(ratingsDefinition, {
      GetRatings(call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<unknown>) {
        seen.push(call.metadata.getMap());
        done(null, { productId: 0, ratings: { Ada: 1, Grace: 2 }, pod: 'double' });
      },
    });
    const gport = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    doubles.push({ close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) });
    await start('reviews-to-double', 'node', 'apps/reviews.mjs', { VERSION: 'v3', ...serviceEnv('ratings', gport) });
    const r = await get(`http://127.0.0.1:${port['reviews-to-double']}/reviews/0`, { 'end-user': 'jason', 'x-private': 'secret', ...trace });
    assert.deepEqual((JSON.parse(r.text) as ReviewsBody).reviews.map((x) => x.rating?.stars), [1, 2]);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!['end-user'], 'jason');
    for (const [k, v] of Object.entries(trace)) assert.equal(seen[0]![k], v, `${k} in gRPC metadata`);
    assert.equal(seen[0]!['x-private'], undefined);
  });

  test('failures are shown plainly: ratings down or failing, details refused, reviews denied, an upstream that never answers', async () => {
    // reviews v2 with ratings down, and with ratings failing every call on purpose.
    const failing = await start('ratings-failing', 'node', 'apps/ratings.mjs', { FAILURE_PERCENT: '100' });
    assert.match(failing.lines[0]!, /failing 100 %/);
    await start('reviews-ratings-down', 'node', 'apps/reviews.mjs', { VERSION: 'v2', RATINGS_DEADLINE_MS: '2000', ...serviceEnv('ratings', closedPort) });
    await start('reviews-ratings-failing', 'node', 'apps/reviews.mjs', { VERSION: 'v2', ...serviceEnv('ratings', port['ratings-failing']!) });
    const down = JSON.parse((await get(`http://127.0.0.1:${port['reviews-ratings-down']}/reviews/0`)).text) as ReviewsBody;
    assert.match(down.ratingsError ?? '', /^ratings unavailable: 14 UNAVAILABLE/);
    assert.equal(down.reviews.length, 2, 'the reviews are served without their stars');
    assert.ok(down.reviews.every((r) => r.rating === undefined));
    const failed = JSON.parse((await get(`http://127.0.0.1:${port['reviews-ratings-failing']}/reviews/0`)).text) as ReviewsBody;
    assert.match(failed.ratingsError ?? '', /14 UNAVAILABLE: ratings failed on purpose \(FAILURE_PERCENT=100\)/);

    // A slow ratings meets reviews' own deadline: the call ends, bounded.
    await start('ratings-slow', 'node', 'apps/ratings.mjs', { DELAY_MS: '10000' });
    await start('reviews-deadline', 'node', 'apps/reviews.mjs', { VERSION: 'v3', RATINGS_DEADLINE_MS: '300', ...serviceEnv('ratings', port['ratings-slow']!) });
    const t0 = Date.now();
    const slow = JSON.parse((await get(`http://127.0.0.1:${port['reviews-deadline']}/reviews/0`)).text) as ReviewsBody;
    assert.match(slow.ratingsError ?? '', /4 DEADLINE_EXCEEDED/);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);

    // productpage: details refused, reviews denied as a sidecar denies (403 from RBAC), then a reviews that never answers.
    const denying = new HttpDouble((_p, _h, res) => sendJson(res, 403, 'RBAC: access denied'));
    const silent = new HttpDouble(() => {
      // never answers: productpage's own timeout must end the wait
    });
    doubles.push(await denying.listen(), await silent.listen());
    await start('productpage-failing', 'node', 'apps/productpage.mjs', { ...serviceEnv('details', closedPort), ...serviceEnv('reviews', denying.port) });
    const page = await get(`http://127.0.0.1:${port['productpage-failing']}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('x-reviews-version'), 'unavailable');
    assert.match(page.text, /<p class="error">Details are unavailable: ECONNREFUSED connect ECONNREFUSED 127\.0\.0\.1:\d+<\/p>/);
    assert.match(page.text, /<p class="error">Reviews are unavailable: HTTP 403: RBAC: access denied<\/p>/);

    await start('productpage-timeout', 'node', 'apps/productpage.mjs', { UPSTREAM_TIMEOUT_MS: '300', ...serviceEnv('details', silent.port), ...serviceEnv('reviews', silent.port) });
    const t1 = Date.now();
    const timedOut = await get(`http://127.0.0.1:${port['productpage-timeout']}/`);
    assert.ok(Date.now() - t1 < 3000, `took ${Date.now() - t1} ms`);
    assert.match(timedOut.text, /Details are unavailable: no answer within 300 ms/);
    assert.match(timedOut.text, /Reviews are unavailable: no answer within 300 ms/);
  });

  test('loadgen: a steady rate, an exact share as jason, and a summary with the reviews versions that answered', async () => {
    // reviews routed as the mesh would: jason to v3, everyone else to v1 — so the summary must count both.
    const reviews = new HttpDouble((_p, h, res) => sendJson(res, 200, { version: h['end-user'] === 'jason' ? 'v3' : 'v1', pod: 'double', reviews: [] }));
    const details = new HttpDouble((_p, _h, res) => sendJson(res, 200, { id: 0 }));
    doubles.push(await reviews.listen(), await details.listen());
    await start('productpage-for-loadgen', 'node', 'apps/productpage.mjs', { ...serviceEnv('details', details.port), ...serviceEnv('reviews', reviews.port) });
    const loadgen = await start('loadgen', 'node', 'apps/loadgen.mjs', {
      RATE: '20', JASON_PERCENT: '25', SUMMARY_SECONDS: '1', ...serviceEnv('productpage', port['productpage-for-loadgen']!),
    }, false);
    await loadgen.waitForLine(/calling http:\/\/127\.0\.0\.1:\d+\/ at 20\/s, 25 % as end-user jason, a summary every 1 s/);
    const summary = /loadgen (\d+) requests in 1 s \([\d.]+\/s\), (\d+) as jason; (\d+) non-2xx, (\d+) failed; reviews (.*); p50 \d+ ms, p99 \d+ ms$/;
    // The first window includes the start; the third is a steady one.
    const lines = await linesMatching(loadgen, summary, 3, 10_000);
    const seen = lines.map((l) => summary.exec(l)!);
    const [, requests, jason, non2xx, failed, versions] = seen[2]!;
    const n = Number(requests);
    assert.ok(n >= 12 && n <= 24, `${n} requests in a second at 20/s`);
    assert.ok(Math.abs(Number(jason) - n / 4) <= 1, `${jason} of ${n} as jason`);
    assert.equal(Number(non2xx), 0);
    assert.equal(Number(failed), 0);
    // What productpage reported is what reviews answered: v3 exactly for jason's views.
    assert.equal(versions, `v1=${n - Number(jason)} v3=${jason}`);
    const jasonAtReviews = reviews.requests.filter((r) => r.headers['end-user'] === 'jason').length;
    assert.ok(Math.abs(jasonAtReviews - reviews.requests.length / 4) <= 2, `${jasonAtReviews} of ${reviews.requests.length} reached reviews as jason`);
  });

  test('plain-client logs each call: the answer, or why there was none', async () => {
    const ok = await start('plain-client', 'node', 'apps/plain-client.mjs', { TARGET: `http://127.0.0.2:${port['productpage']}/health`, INTERVAL_SECONDS: '1' }, false);
    await ok.waitForLine(/plain-client GET http:\/\/127\.0\.0\.2:\d+\/health → HTTP 200 \(3 bytes\)$/);
    const refused = await start('plain-client-refused', 'node', 'apps/plain-client.mjs', { TARGET: `http://127.0.0.1:${closedPort}/`, INTERVAL_SECONDS: '1' }, false);
    await refused.waitForLine(/→ failed: ECONNREFUSED connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  test('a bad setting stops an app at once, naming the variable', async () => {
    const badVersion = await start('reviews-bad', 'node', 'apps/reviews.mjs', { VERSION: 'v9' }, false);
    const badRate = await start('loadgen-bad', 'node', 'apps/loadgen.mjs', { RATE: 'fast' }, false);
    const badPort = python ? await start('details-bad', python, 'apps/details.py', { PORT: '99999' }, false) : undefined;
    for (const [app, message] of [[badVersion, /VERSION must be v1, v2 or v3 \(got "v9"\)/], [badRate, /RATE="fast": expected an integer from 1 to 1000/], [badPort, /PORT='99999': expected an integer/]] as const) {
      if (!app) continue;
      await app.exited;
      assert.equal(app.child.exitCode, 2, app.name);
      assert.match(app.stderr.join('\n'), message);
    }
  });

  test('every app exits 0 on SIGTERM, within the grace period', async () => {
    const exits = await Promise.all(apps.map(async (a) => [a, await a.stop()] as const));
    for (const [a, e] of exits) {
      stopped.set(a.name, e);
      if (a.name.endsWith('-bad')) continue;
      assert.equal(e.killed, false, `${a.name} needed SIGKILL after ${STOP_GRACE_MS} ms`);
      assert.deepEqual([e.code, e.signal], [0, null], `${a.name}: ${a.stderr.join('\n')}`);
    }
    assert.ok(stopped.size >= 15, `${stopped.size} apps`);
  });
});
