/**
 * CSR signing rate of the CA (src/ca/): parse a PEM CSR, verify its
 * signature, issue and PEM-encode the leaf — what one CreateCertificate costs
 * without gRPC — on one core, for ECDSA P-256 (the goal: >= 1,000/s) and RSA
 * 2048 for reference. Side by side: the two halves on their own, node:crypto's
 * verify + sign alone (the ceiling for this design), `openssl speed` for the
 * raw signature costs, and `openssl x509 -req` issuing from a CSR in a loop.
 *
 * Rates are given per wall second and per CPU second: on a shared machine the
 * second is what one core does, the first what this run got.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority } from '../src/ca/authority.js';
import { createCsr, parseCsr } from '../src/ca/csr.js';
import type { KeyType } from '../src/ca/keys.js';
import { formatTable, saveResults } from './lib/machine.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? '10');
const OPENSSL_LOOP = Number(process.env.BENCH_OPENSSL_LOOP ?? '200');
const uri = 'spiffe://cluster.local/ns/default/sa/bench';
const who = { namespace: 'default', serviceAccount: 'bench' };

interface Rate {
  what: string;
  keys: string;
  perWallSecond: number;
  perCpuSecond: number;
  note?: string;
}

interface Case {
  what: string;
  keys: string;
  note?: string;
  fn: (i: number) => void;
}

const ROUNDS = 5;

/**
 * Measures every case in turn, ROUNDS times round-robin (each case for
 * SECONDS/ROUNDS per round, after one warm-up second each), and reports each
 * case's median round. Interleaving puts every case under the same neighbours
 * on a shared machine, so the rows compare with each other.
 */
function measureAll(cases: Case[]): Rate[] {
  for (const c of cases) for (let t = performance.now(), i = 0; performance.now() - t < 1000; i++) c.fn(i);
  const rounds = cases.map(() => [] as Array<{ perWallSecond: number; perCpuSecond: number }>);
  const counters = cases.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    cases.forEach((c, k) => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < (SECONDS * 1000) / ROUNDS) for (let j = 0; j < 10; j++, n++) c.fn(counters[k]!++);
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      rounds[k]!.push({ perWallSecond: n / wall, perCpuSecond: n / ((cpu.user + cpu.system) / 1e6) });
    });
  }
  return cases.map((c, k) => {
    const median = rounds[k]!.sort((a, b) => a.perCpuSecond - b.perCpuSecond)[Math.floor(ROUNDS / 2)]!;
    return { what: c.what, keys: c.keys, ...median, ...(c.note ? { note: c.note } : {}) };
  });
}

function newKey(type: KeyType): KeyObject {
  return type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

function caCases(dir: string, type: KeyType): Case[] {
  const keys = type === 'rsa' ? 'RSA 2048 CA, RSA 2048 CSRs' : 'P-256 CA, P-256 CSRs';
  const ca = CertificateAuthority.open({ dir: join(dir, `ca-${type}`), keyType: type });
  const csrKeys = Array.from({ length: 64 }, () => newKey(type));
  const csrs = csrKeys.map((k) => createCsr(k, uri));
  const parsed = csrs.map(parseCsr);
  const caKey = createPrivateKey(readFileSync(join(dir, `ca-${type}`, 'ca-key.pem')));
  const tbs = Buffer.alloc(420, 7); // about a CSR's signed part
  const sigs = csrKeys.map((k) => sign('sha256', tbs, k));
  return [
    { what: 'trellis: CSR → leaf (parse, verify, issue, PEM)', keys, fn: (i) => ca.sign(csrs[i & 63]!, who) },
    { what: '  of which CSR parse + verify', keys, fn: (i) => parseCsr(csrs[i & 63]!) },
    { what: '  of which leaf issue (parsed CSR)', keys, fn: (i) => ca.issue({ spki: parsed[i & 63]!.spki, keyType: type, sans: { uris: [uri] } }, 86400) },
    {
      what: 'node:crypto only: verify + sign (keys already imported)',
      keys,
      note: 'the bound for this design: the two signature operations alone',
      fn: (i) => {
        if (!verify('sha256', tbs, parsed[i & 63]!.publicKey, sigs[i & 63]!)) throw new Error('bench signature does not verify');
        sign('sha256', tbs, caKey);
      },
    },
  ];
}

/** `openssl speed` (one process, one core): raw signs and verifies per second, and the CSR-signing bound they imply. */
function opensslSpeed(alg: 'ecdsap256' | 'rsa2048'): Rate[] {
  const out = execFileSync('openssl', ['speed', '-seconds', String(Math.max(1, Math.round(SECONDS / 4))), alg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = (alg === 'ecdsap256' ? /nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/ : /rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)/).exec(out);
  if (!m) throw new Error(`cannot read openssl speed ${alg}:\n${out}`);
  const s = Number(m[1]);
  const v = Number(m[2]);
  const keys = alg === 'ecdsap256' ? 'P-256' : 'RSA 2048';
  const bound = 1 / (1 / s + 1 / v);
  return [
    { what: `openssl speed ${alg}: sign`, keys, perWallSecond: s, perCpuSecond: s },
    { what: `openssl speed ${alg}: verify`, keys, perWallSecond: v, perCpuSecond: v },
    { what: `openssl speed ${alg}: one verify + one sign`, keys, perWallSecond: bound, perCpuSecond: bound, note: 'raw crypto bound for a CSR signing' },
  ];
}

/** Children's CPU seconds so far (utime + stime of waited-for children, /proc/self/stat fields 16–17). */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[13]) + Number(fields[14]);
  return ticks / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
}

/** `openssl x509 -req` issuing from a P-256 CSR (it verifies the CSR's signature first), one process per certificate. */
function opensslX509Loop(dir: string): Rate {
  const ca = join(dir, 'ca-ec');
  writeFileSync(join(dir, 'leaf.ext'), `subjectAltName=critical,URI:${uri}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`);
  writeFileSync(join(dir, 'leaf.csr'), createCsr(newKey('ec'), uri));
  const script = `for i in $(seq ${OPENSSL_LOOP}); do openssl x509 -req -in leaf.csr -CA ${ca}/ca-cert.pem -CAkey ${ca}/ca-key.pem -CAcreateserial -CAserial serial.srl -days 1 -extfile leaf.ext -out /dev/null 2>/dev/null || exit 1; done`;
  const cpu0 = childCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', script], { cwd: dir, stdio: 'ignore' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error('openssl x509 -req failed');
  const cpu = childCpuSeconds() - cpu0;
  return { what: 'openssl x509 -req in a shell loop', keys: 'P-256 CA, P-256 CSR', perWallSecond: OPENSSL_LOOP / wall, perCpuSecond: OPENSSL_LOOP / cpu, note: 'a process per certificate: mostly start-up' };
}

const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-ca-'));
try {
  const rows = [...measureAll([...caCases(dir, 'ec'), ...caCases(dir, 'rsa')]), ...opensslSpeed('ecdsap256'), ...opensslSpeed('rsa2048'), opensslX509Loop(dir)];
  const goal = rows[0]!.perCpuSecond >= 1000 ? 'met' : 'NOT met';
  const table = formatTable(
    ['what', 'keys', 'per wall second', 'per CPU second', 'note'],
    rows.map((r) => [r.what, r.keys, Math.round(r.perWallSecond), Math.round(r.perCpuSecond), r.note ?? '']),
  );
  const note = `Goal >= 1,000 P-256 CSR signings per second on one core: ${goal} (${Math.round(rows[0]!.perCpuSecond)} per CPU second). ` +
    `Trellis rows: the median of ${ROUNDS} rounds of ${(SECONDS / ROUNDS).toFixed(1)} s, the cases interleaved, after a 1 s warm-up each; ${OPENSSL_LOOP} openssl processes. Node ${process.version}, ` +
    `${execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim()}. Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`;
  console.log(table + '\n\n' + note);
  console.log('saved', saveResults('ca-sign', table + '\n\n' + note, { rows, seconds: SECONDS, opensslLoop: OPENSSL_LOOP }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
