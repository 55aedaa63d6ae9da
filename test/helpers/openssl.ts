/**
 * The real openssl CLI as the independent judge of what the CA writes:
 * CSRs made by `openssl req`, certificates checked by `openssl verify`,
 * structures read back by `openssl asn1parse` and `openssl x509 -text`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  ok: boolean;
  out: string;
}

/** Runs openssl; `input` goes to stdin. Never throws: callers assert on ok/out. */
export function openssl(args: string[], opts: { cwd?: string; input?: string | Buffer } = {}): RunResult {
  const input = typeof opts.input === 'string' ? Buffer.from(opts.input) : opts.input;
  const r = spawnSync('openssl', args, { cwd: opts.cwd, input, timeout: 30_000 });
  return { ok: r.status === 0, out: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}` };
}

export type CsrKey = 'ec' | 'ec384' | 'ec521' | 'rsa2048' | 'rsa1024' | 'ed25519';

const newKeyArgs: Record<CsrKey, string[]> = {
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ec384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  ec521: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  rsa2048: ['-newkey', 'rsa:2048'],
  rsa1024: ['-newkey', 'rsa:1024'],
  ed25519: ['-newkey', 'ed25519'],
};

/** A scratch directory for openssl's files; remove() deletes it. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'trellis-ca-test-'));
  #n = 0;

  file(name: string, content?: string | Buffer): string {
    const p = join(this.dir, name);
    if (content !== undefined) writeFileSync(p, content);
    return p;
  }

  /** `openssl req` with a new key of `key` and the given URI SANs; returns the PEMs and the key's path. */
  csr(key: CsrKey, uris: string[]): { csrPem: string; keyPem: string; keyFile: string } {
    const n = `req${++this.#n}`;
    const san = uris.length ? ['-addext', `subjectAltName=${uris.map((u) => `URI:${u}`).join(',')}`] : [];
    const r = openssl(['req', '-new', ...newKeyArgs[key], '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', '/O=trellis-test', ...san], { cwd: this.dir });
    if (!r.ok) throw new Error(`openssl req failed: ${r.out}`);
    return { csrPem: readFileSync(join(this.dir, `${n}.csr`), 'utf8'), keyPem: readFileSync(join(this.dir, `${n}.key`), 'utf8'), keyFile: join(this.dir, `${n}.key`) };
  }

  /** `openssl verify -CAfile roots [-untrusted chain] -purpose P leaf`. */
  verify(rootsPem: string, leafPem: string, purpose: 'sslserver' | 'sslclient', intermediatesPem?: string): RunResult {
    const n = ++this.#n;
    const args = ['verify', '-CAfile', this.file(`roots${n}.pem`, rootsPem), '-purpose', purpose];
    if (intermediatesPem) args.push('-untrusted', this.file(`chain${n}.pem`, intermediatesPem));
    return openssl([...args, this.file(`leaf${n}.pem`, leafPem)]);
  }

  /** `openssl x509 -noout -text` of a PEM certificate. */
  text(certPem: string): string {
    const r = openssl(['x509', '-noout', '-text'], { input: certPem });
    if (!r.ok) throw new Error(`openssl x509 failed: ${r.out}`);
    return r.out;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
