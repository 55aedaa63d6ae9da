/**
 * Issue 8, defect 5: what hostile peers and files can put in the real
 * `trellis controlplane`'s log and debug pages. Over real grpc-js streams: a
 * 200 KB node id, "" and "garbage" (refused, INVALID_ARGUMENT, one log line
 * each), a node id that tries to forge a log line, a 100 KB type_url sent
 * again and again, a NACK with a 1 MB error_detail; in the config directory a
 * binary file and a document quoting a 50 KB value. Every log line stays
 * short, and a well-behaved client is served afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { TypeUrl } from '../../../src/xds/type-urls.js';
import { TestAdsClient, namesOf, waitFor } from '../../helpers/ads-client.js';
import { jsonLine, TrellisProcess } from '../../helpers/trellis-process.js';

const exampleDir = fileURLToPath(new URL('../../../../examples/grpc-split/', import.meta.url));
const node = (pod: string) => `sidecar~127.0.0.9~${pod}.default~default.svc.cluster.local`;
/** Far below the inputs (100 KB to 1 MB), above what a line with a few capped fields needs. */
const LINE_MAX = 4096;

/** Bytes that are not YAML: a fixed pseudo-random sequence (xorshift), so the test is the same every run. */
function binary(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

interface Problem {
  code: string;
  file: string;
  line: number;
  reason: string;
}
interface SyncEntry {
  nodeId: string;
  types: Record<string, { status: string; nack?: { error: string } }>;
}

describe('trellis controlplane with hostile peers and files', () => {
  let dir: string;
  let cpProc: TrellisProcess;
  let ads: TestAdsClient;
  let debug: string;
  const get = async <T>(path: string): Promise<T> => (await (await fetch(debug + path)).json()) as T;
  const logLines = (text: string) => cpProc.stderr.filter((l) => l.includes(text));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-hostile-'));
    await cp(exampleDir, dir, { recursive: true });
    await writeFile(join(dir, 'binary.yaml'), binary(200_000));
    await writeFile(join(dir, 'huge-kind.yaml'), `apiVersion: v1\nkind: ${'K'.repeat(50_000)}\nmetadata:\n  name: x\n`);
    cpProc = new TrellisProcess(['controlplane', '--config-dir', dir, '--xds-port', '0', '--debug-port', '0']);
    const ready = jsonLine<{ xds: string; debug: string }>(await cpProc.waitForLine((l) => jsonLine(l)?.xds !== undefined))!;
    debug = `http://${ready.debug}`;
    ads = new TestAdsClient(Number(ready.xds.split(':')[1]));
  });

  after(async () => {
    ads?.close();
    await cpProc?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('bad node ids are refused with INVALID_ARGUMENT, a bounded message, and one log line per stream', async () => {
    const huge = `sidecar~127.0.0.9~${'p'.repeat(200_000)}.default~default.svc.cluster.local`;
    const forged = 'x\n2026-01-01T00:00:00.000Z info xds forged line';
    const ids: [string, RegExp][] = [
      [huge, new RegExp(`is ${huge.length} characters long`)],
      ['', /the node id is empty/],
      ['garbage', /not 4/],
      [forged, /not 4/],
    ];
    for (const [id, why] of ids) {
      const s = ads.sotw(id);
      s.request(TypeUrl.Cluster);
      s.request(TypeUrl.Cluster); // a second request on the refused stream must not log again
      const st = await s.status(5000);
      assert.equal(st.code, status.INVALID_ARGUMENT, st.details);
      assert.match(st.details, why);
      assert.match(st.details, /expected TYPE~IP~POD\.NAMESPACE~NAMESPACE\.svc\.DOMAIN/);
      assert.ok(st.details.length < 1024, `status message of ${st.details.length} characters`);
    }
    await waitFor(() => logLines('refusing xDS stream').length >= ids.length, 5000);
    assert.equal(logLines('refusing xDS stream').length, ids.length, 'one line per refused stream');
    assert.ok(!cpProc.stderr.some((l) => l.startsWith('2026-01-01T00:00:00.000Z')), 'a node id cannot start a log line');
  });

  test('a 100 KB type_url is ignored and logged once per stream, shortened; the stream keeps working', async () => {
    const s = ads.sotw(node('typeurl'));
    const typeUrl = `type.googleapis.com/${'T'.repeat(100_000)}`;
    for (let i = 0; i < 3; i++) s.request(typeUrl);
    s.request(TypeUrl.Cluster);
    const cds = await s.next(5000);
    assert.equal(cds.typeUrl, TypeUrl.Cluster);
    const warned = logLines('ignoring request for unknown type');
    assert.equal(warned.length, 1, 'warned once for three requests');
    assert.ok(warned[0]!.includes(`…(${typeUrl.length} bytes)`), warned[0]!.slice(0, 300));
  });

  test('a NACK with a 1 MB error_detail: shortened in the log and in /debug/syncz', async () => {
    const s = ads.sotw(node('bignack'));
    s.request(TypeUrl.Listener);
    const lds = await s.next(5000);
    const detail = 'e'.repeat(1024 * 1024);
    s.nack(lds, detail);
    await waitFor(() => logLines('NACK').length > 0, 5000);
    assert.ok(logLines('NACK')[0]!.includes(`…(${detail.length} bytes)`));
    const me = (await get<SyncEntry[]>('/debug/syncz')).find((p) => p.nodeId === node('bignack'));
    assert.equal(me?.types.LDS?.status, 'STALE');
    const kept = me!.types.LDS!.nack!.error;
    assert.ok(kept.length < 5000 && kept.startsWith('eeee') && kept.endsWith(`…(${detail.length} bytes)`), `${kept.length} characters kept`);
  });

  test('a binary file and a 50 KB value give a few short problems', async () => {
    const problems = await get<Problem[]>('/debug/config_problems');
    const bin = problems.filter((p) => p.file === 'binary.yaml');
    assert.ok(bin.length >= 2 && bin.length <= 11, `${bin.length} problems for binary.yaml`);
    assert.match(bin.at(-1)!.reason, /more YAML error\(s\) in this file, not listed/);
    const kind = problems.find((p) => p.file === 'huge-kind.yaml');
    assert.ok(kind, JSON.stringify(problems.map((p) => p.file)));
    assert.match(kind.reason, /^unknown kind KKK+…\(\d+ bytes\)K+ \(apiVersion v1\)$/);
    for (const p of problems) assert.ok(p.reason.length <= 600, `${p.file}:${p.line} reason of ${p.reason.length} characters`);
  });

  test('every log line is short, and a good client is served afterwards', async () => {
    const s = ads.sotw(node('after'));
    s.request(TypeUrl.Cluster);
    const cds = await s.next(5000);
    assert.ok(namesOf(cds).includes('outbound|50051|v1|greeter.default.svc.cluster.local'), namesOf(cds).join(' '));
    assert.equal((await fetch(`${debug}/ready`)).status, 200);
    assert.equal(cpProc.child.exitCode, null, 'still running');
    const longest = cpProc.stderr.reduce((a, l) => (l.length > a.length ? l : a), '');
    assert.ok(longest.length <= LINE_MAX, `a log line of ${longest.length} characters: ${longest.slice(0, 200)}`);
    assert.ok(cpProc.stderr.length > 10, 'the log was read');
  });
});
