/**
 * Key and certificate files in the CA directory. A private key file must be
 * a regular file that neither group nor others can read or write (mode &
 * 0o077 == 0): a key someone else could read is a CA anyone could be, and a
 * refusal at start is cheaper than finding out later. New files are written
 * to a temporary name and linked into place, so they appear whole or not at
 * all and never replace a file that is already there.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { TrellisError } from '../errors.js';

/** Reads a PEM private key after checking the file's type and mode. */
export function readPrivateKeyFile(path: string): KeyObject {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new TrellisError('CA_DIR', `cannot read ${path}`, { cause: err });
  }
  if (!st.isFile()) throw new TrellisError('CA_DIR', `${path} is not a regular file`);
  const mode = st.mode & 0o777;
  if (mode & 0o077) {
    throw new TrellisError('CA_DIR', `${path} is accessible by group or others (mode 0${mode.toString(8)}); a private key must be 0600 or stricter: chmod 600 ${path}`);
  }
  try {
    return createPrivateKey(readFileSync(path));
  } catch (err) {
    throw new TrellisError('CA_DIR', `${path} does not hold a PEM private key`, { cause: err });
  }
}

export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TrellisError('CA_DIR', `cannot read ${path}`, { cause: err });
  }
}

/** Creates `path` with `content` and exactly `mode`; fails with CA_DIR if it exists. */
export function writeNewFile(path: string, content: string, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, content, { mode, flag: 'wx' });
    chmodSync(tmp, mode); // the umask may have taken bits away; 0644 must stay readable
    linkSync(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TrellisError('CA_DIR', code === 'EEXIST' ? `${path} appeared while it was being created (another process?)` : `cannot write ${path}`, { cause: err });
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp);
  }
}
