/**
 * A throwaway PKI made with the real openssl CLI: a CA and SPIFFE leaf
 * certificates (URI SAN spiffe://cluster.local/ns/NS/sa/SA, serverAuth and
 * clientAuth), in a temporary directory the caller removes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  leaf(uri: string): Pem {
    const n = `leaf${++this.#n}`;
    writeFileSync(join(this.dir, `${n}.ext`), `subjectAltName=URI:${uri}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', '/O=trellis'], this.dir);
    openssl(['x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.crt`, '-days', '1', '-extfile', `${n}.ext`], this.dir);
    return this.#read(n);
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
