/**
 * Fuzz target: the ADS server (AdsServer with the production node parser)
 * over real gRPC. Two kinds of input: scripts of structured SotW and Delta
 * requests from a grpc-js client (random and huge type URLs, nonces, names,
 * error details, node ids valid and not), and raw HTTP/2 streams carrying
 * mutated protobuf bytes and mutated gRPC framing, which reach grpc-js's
 * framing and our deserializer. Properties, per batch of streams run at once:
 * every stream ends with a gRPC status (OK when its node is accepted,
 * INVALID_ARGUMENT when not or when a SotW stream asks for a Delta-only
 * type; for raw bytes only grpc-js's own statuses for
 * bytes it cannot read), an accepted stream that asked for a known type was
 * served, the server counts no internal error, every log line is bounded,
 * and a well-formed client on its own connection still gets its clusters.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { credentials, makeGenericClientConstructor, status, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { AdsServer } from '../../src/controlplane/server/ads-server.js';
import { Metrics } from '../../src/controlplane/metrics/metrics.js';
import { DeltaDiscoveryRequestSchema, DiscoveryRequestSchema } from '../../src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { StatusSchema } from '../../src/gen/google/rpc/status_pb.js';
import { LOG_LINE_MAX, logger } from '../../src/log.js';
import { adsServiceDefinition } from '../../src/xds/ads-service.js';
import { parseNode } from '../../src/xds/parse-node.js';
import { deltaOnlyTypes, isKnownType } from '../../src/xds/type-urls.js';
import { CDS, EDS, FakeGenerator, LDS, RDS, cluster, endpoints, listener, route } from '../integration/ads/fake-generator.js';
import { cut, fuzz, mutated, splits } from './harness.js';
import { streamScript, validRequestBytes, type DeltaStep, type SotwStep, type StreamScript } from './xds-requests.js';

const AdsClient = makeGenericClientConstructor(adsServiceDefinition, 'AggregatedDiscoveryService');
type Stub = Client & {
  StreamAggregatedResources(): ClientDuplexStream<unknown, { typeUrl: string; nonce: string }>;
  DeltaAggregatedResources(): ClientDuplexStream<unknown, { typeUrl: string; nonce: string }>;
};
interface Outcome {
  code: number;
  details: string;
  responses: number;
}

const STREAM_DEADLINE_MS = 5000;
const paths = { sotw: adsServiceDefinition.StreamAggregatedResources.path, delta: adsServiceDefinition.DeltaAggregatedResources.path };

let server: AdsServer;
let port: number;
let stub: Stub;
let goodStub: Stub;
const metrics = new Metrics();
const logLines: string[] = [];
const stderrWrite = process.stderr.write;

before(async () => {
  // The log is part of the property (bounded lines); keeping it also keeps the test output readable.
  process.stderr.write = ((chunk: string | Uint8Array) => {
    logLines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  const mesh = {
    default: {
      [CDS]: ['a', 'b', 'c'].map((n) => cluster(n)),
      [EDS]: ['a', 'b', 'c'].map((n) => endpoints(n)),
      [LDS]: [listener('0.0.0.0_9080', 9080)],
      [RDS]: [route('9080', ['reviews']), route('8080', ['ratings'])],
    },
  };
  server = new AdsServer({ generator: new FakeGenerator(mesh), parseNode, metrics, log: logger('fuzz-ads') });
  port = await server.listen('127.0.0.1', 0);
  stub = new AdsClient(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Stub;
  goodStub = new AdsClient(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as Stub;
});

after(async () => {
  process.stderr.write = stderrWrite;
  stub?.close();
  goodStub?.close();
  await server?.close();
});

/** Resolves when `cond` holds or `ms` passed (polling every 2 ms): how long a step waits for the answer it may ACK. */
async function settle(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
}

function withDeadline<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${STREAM_DEADLINE_MS} ms`)), STREAM_DEADLINE_MS)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function nonceOf(step: SotwStep | DeltaStep, last: string | undefined): string {
  if (step.nonce.kind === 'random') return step.nonce.value;
  return step.nonce.kind === 'last' ? last ?? 'no-response-yet' : '';
}

function encode(kind: StreamScript['kind'], step: SotwStep | DeltaStep, last: string | undefined) {
  const errorDetail = step.errorDetail && create(StatusSchema, step.errorDetail);
  const common = { node: step.node, typeUrl: step.typeUrl, responseNonce: nonceOf(step, last), errorDetail };
  if (kind === 'sotw') {
    const s = step as SotwStep;
    return create(DiscoveryRequestSchema, { ...common, resourceNames: s.names, versionInfo: s.versionInfo });
  }
  const d = step as DeltaStep;
  return create(DeltaDiscoveryRequestSchema, { ...common, resourceNamesSubscribe: d.subscribe, resourceNamesUnsubscribe: d.unsubscribe, initialResourceVersions: d.initialVersions });
}

/** Plays one script on a new stream, half-closes, and returns how the server ended it. */
async function play(script: StreamScript): Promise<Outcome> {
  const call = script.kind === 'sotw' ? stub.StreamAggregatedResources() : stub.DeltaAggregatedResources();
  // The last nonce per type: an ACK or NACK names the response of its own type.
  const lastNonce = new Map<string, string>();
  let responses = 0;
  let ended = false;
  const done = new Promise<{ code: number; details: string }>((resolve) => call.on('status', (s: { code: number; details: string }) => ((ended = true), resolve(s))));
  call.on('data', (r: { typeUrl: string; nonce: string }) => (responses++, lastNonce.set(r.typeUrl, r.nonce)));
  call.on('error', () => undefined); // the status says it
  let seen = 0;
  for (const step of script.steps) {
    if (ended) break;
    if (step.nonce.kind === 'last') await settle(() => responses > seen || ended, 10);
    seen = responses;
    call.write(encode(script.kind, step, lastNonce.get(step.typeUrl)));
  }
  call.end();
  const st = await withDeadline(done, `${script.kind} stream of ${script.steps.length} request(s)`);
  return { code: st.code, details: st.details, responses };
}

/** What the server must answer a script with: it refuses exactly the streams whose first node its parser refuses. */
function expected(script: StreamScript): { code: number; served: boolean } {
  const first = script.steps[0]!.node;
  let accepted = first !== undefined;
  try {
    if (first) parseNode(first);
  } catch {
    accepted = false;
  }
  // A SotW stream that asks for a Delta-only type is refused there; what it was sent before may not arrive first.
  if (accepted && script.kind === 'sotw' && script.steps.some((s) => deltaOnlyTypes.has(s.typeUrl))) return { code: status.INVALID_ARGUMENT, served: false };
  return { code: accepted ? status.OK : status.INVALID_ARGUMENT, served: accepted && script.steps.some((s) => isKnownType(s.typeUrl)) };
}

/** A well-formed client on its own connection: asks for clusters, must get a, b and c. */
async function goodClientServed(): Promise<void> {
  const call = goodStub.StreamAggregatedResources();
  const got = new Promise<{ typeUrl: string; resources: { value: Uint8Array }[] }>((resolve, reject) => {
    call.on('data', resolve);
    call.on('error', reject);
  });
  call.write(create(DiscoveryRequestSchema, { node: { id: 'sidecar~10.0.0.2~good.default~default.svc.cluster.local' }, typeUrl: CDS }));
  const res = await withDeadline(got, 'the good client');
  call.cancel();
  assert.equal(res.typeUrl, CDS);
  assert.equal(res.resources.length, 3);
}

function internalErrors(): number {
  return Number(/^pilot_total_xds_internal_errors (\d+)$/m.exec(metrics.expose())?.[1] ?? 0);
}

/** What the batches reached, for the test's diagnostics: a fuzzer that never gets past the node check proves little. */
const reached = { served: 0, refused: 0, responses: 0, nacks: 0 };

function checkAfterBatch(): void {
  reached.nacks += logLines.filter((l) => / warn fuzz-ads NACK /.test(l)).length;
  assert.equal(internalErrors(), 0, 'no internal error counted');
  const long = logLines.find((l) => l.length > LOG_LINE_MAX + 32);
  assert.equal(long, undefined, `a log line of ${long?.length} characters`);
  logLines.length = 0;
}

test('fuzz: structured SotW and Delta request scripts', async (t) => {
  const batch = fc.array(streamScript, { minLength: 1, maxLength: 4 });
  await fuzz('xds-server/structured', fc.asyncProperty(batch, async (scripts) => {
    const outcomes = await Promise.all(scripts.map(play));
    scripts.forEach((s, i) => {
      const want = expected(s);
      const got = outcomes[i]!;
      assert.equal(got.code, want.code, `stream ${i}: ${status[got.code]} ${got.details.slice(0, 300)}`);
      if (want.served) assert.ok(got.responses > 0, `stream ${i} was accepted and asked for a known type but got nothing`);
      reached[want.code === status.OK ? 'served' : 'refused']++;
      reached.responses += got.responses;
    });
    await goodClientServed();
    checkAfterBatch();
  }), 25, t);
  t.diagnostic(`reached: ${JSON.stringify(reached)}`);
});

/** A gRPC length-prefixed message (uncompressed). */
function frame(msg: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** The statuses grpc-js itself sends for bytes it cannot frame, decompress or decode (never our handlers'). */
const framingStatuses = new Set([status.INTERNAL, status.RESOURCE_EXHAUSTED, status.UNIMPLEMENTED]);

/** One raw HTTP/2 stream: headers, the body in pieces, end; resolves with grpc-status and grpc-message. */
function rawStream(session: http2.ClientHttp2Session, path: string, pieces: Buffer[]): Promise<{ code: number | undefined; details: string }> {
  return new Promise((resolve) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    let code: number | undefined;
    let details = '';
    const read = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) code = Number(h['grpc-status']);
      if (typeof h['grpc-message'] === 'string') details = decodeURIComponent(h['grpc-message']);
    };
    req.on('response', read);
    req.on('trailers', read);
    req.on('error', () => undefined);
    req.on('close', () => resolve({ code, details }));
    req.resume();
    for (const p of pieces) req.write(p);
    req.end();
  });
}

const rawCase = fc.record({
  kind: fc.constantFrom('sotw' as const, 'delta' as const),
  messages: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  mutateFraming: fc.boolean(),
  pieces: splits(),
}).chain((c) => {
  const seeds = validRequestBytes[c.kind];
  const bodies = c.messages.map((i) => mutated(fc.constant(seeds[i % seeds.length]!)));
  return fc.tuple(fc.constant(c), fc.tuple(...bodies)).chain(([cc, msgs]) => {
    const framed = Buffer.concat(msgs.map(frame));
    return (cc.mutateFraming ? mutated(fc.constant(Uint8Array.from(framed)), 4) : fc.constant(Uint8Array.from(framed))).map((body) => ({ ...cc, body }));
  });
});

test('fuzz: raw HTTP/2 streams of mutated protobuf and gRPC framing', async (t) => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  try {
    await fuzz('xds-server/raw', fc.asyncProperty(fc.array(rawCase, { minLength: 1, maxLength: 6 }), async (cases) => {
      assert.ok(!session.destroyed && !session.closed, 'the server kept the connection');
      const outcomes = await withDeadline(Promise.all(cases.map((c) => rawStream(session, paths[c.kind], cut(c.body, c.pieces)))), 'raw streams');
      outcomes.forEach((o, i) => {
        assert.notEqual(o.code, undefined, `raw stream ${i} ended without a grpc-status`);
        const ours = o.code === status.OK || o.code === status.INVALID_ARGUMENT;
        assert.ok(ours || framingStatuses.has(o.code!), `raw stream ${i}: ${status[o.code!]} ${o.details}`);
        if (o.code === status.INTERNAL) assert.match(o.details, /^(Error deserializing request|Received compressed message)/);
      });
      await goodClientServed();
      checkAfterBatch();
    }), 100, t);
  } finally {
    session.destroy();
  }
});
