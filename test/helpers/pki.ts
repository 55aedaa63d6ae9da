/**
 * A throwaway PKI made with the real openssl CLI: a CA and SPIFFE leaf
 * certificates (URI SAN spiffe://cluster.local/ns/NS/sa/SA, serverAuth and
 * clientAuth), in a temporary directory the caller removes. Leaves may carry
 * DNS SANs and a subject, and a validity window in the past or the future
 * (`openssl ca -startdate/-enddate`: `openssl x509 -req` takes only -days).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LeafOptions {
  dns?: string[];
  /** IP address SANs (a server reached by address, such as a test API server on 127.0.0.1). */
  ips?: string[];
  /** e.g. "/O=trellis/CN=client" (the default is "/O=trellis"). */
  subject?: string;
  notBefore?: Date;
  notAfter?: Date;
}

export interface Pem {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

export class TestPki {
  readonly dir: string;
  readonly ca: Pem;
  #n = 0;

  /** `parent`: where the temporary directory goes (the system's temp directory by default). */
  constructor(name = 'trellis test CA', parent = tmpdir()) {
    this.dir = mkdtempSync(join(parent, 'trellis-pki-'));
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
      '-subj', `/O=${name}`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], this.dir);
    this.ca = this.#read('ca');
  }

  /** A leaf certificate for a SPIFFE id (or any URI) signed by this CA. */
  leaf(uri: string, o: LeafOptions = {}): Pem {
    const n = `leaf${++this.#n}`;
    const san = [`URI:${uri}`, ...(o.dns ?? []).map((d) => `DNS:${d}`), ...(o.ips ?? []).map((ip) => `IP:${ip}`)].join(',');
    writeFileSync(join(this.dir, `${n}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', o.subject ?? '/O=trellis'], this.dir);
    if (o.notBefore || o.notAfter) this.#signWindow(n, o.notBefore ?? new Date(), o.notAfter ?? new Date(Date.now() + 86_400_000));
    else openssl(['x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.crt`, '-days', '1', '-extfile', `${n}.ext`], this.dir);
    return this.#read(n);
  }

  /** Signs with an explicit validity window through `openssl ca`, which keeps its own database. */
  #signWindow(n: string, from: Date, to: Date): void {
    const cnf = join(this.dir, 'ca.cnf');
    writeFileSync(cnf, '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=ca.serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\norganizationName=optional\ncommonName=optional\norganizationalUnitName=optional\n');
    writeFileSync(join(this.dir, 'index.txt'), '', { flag: 'a' });
    try {
      readFileSync(join(this.dir, 'ca.serial'));
    } catch {
      writeFileSync(join(this.dir, 'ca.serial'), '1000\n');
    }
    const asn1 = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
    openssl(['ca', '-batch', '-config', cnf, '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${n}.csr`, '-out', `${n}.crt`, '-notext', '-preserveDN',
      '-startdate', asn1(from), '-enddate', asn1(to), '-extfile', `${n}.ext`], this.dir);
  }

  #read(n: string): Pem {
    const certFile = join(this.dir, `${n}.crt`);
    const keyFile = join(this.dir, `${n}.key`);
    return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const spiffe = (ns: string, sa: string) => `spiffe://cluster.local/ns/${ns}/sa/${sa}`;
