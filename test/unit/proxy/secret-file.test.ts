/**
 * Issue 8 (found while writing the proxy's validation fuzz target): a Secret
 * naming /dev/zero read forever and a FIFO blocked the open, stalling the
 * proxy's event loop while it validated an SDS update. Run in a child process
 * with a deadline and a small heap, so a regression fails instead of hanging
 * or exhausting this machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const secretModule = new URL('../../../src/proxy/tls/secret.js', import.meta.url).href;

/** compileSecret of a CA secret read from each file, in one child process: the errors per file, or a failure after 10 s. */
function caFromFiles(files: string[]): string[][] {
  const script = `
    const { compileSecret } = await import(${JSON.stringify(secretModule)});
    const ca = (f) => ({ name: 'ROOTCA', type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'filename', value: f } } } } });
    const out = ${JSON.stringify(files)}.map((f) => { const r = compileSecret(ca(f)); return r.ok ? [] : r.errors; });
    process.stdout.write(JSON.stringify(out));`;
  const out = execFileSync(process.execPath, ['--max-old-space-size=64', '--input-type=module', '-e', script], { timeout: 10_000, maxBuffer: 1 << 20 });
  return JSON.parse(out.toString()) as string[][];
}

test('DataSource files: device, /proc and /sys paths, FIFOs and directories are refused without reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-datasource-'));
  try {
    const fifo = join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const notPem = join(dir, 'ca.pem');
    writeFileSync(notPem, 'not a certificate');
    const cases: [string, RegExp][] = [
      ['/dev/zero', /filename: \/dev\/zero is refused \(files under \/dev, \/sys and \/proc are not read, as in Envoy\)/],
      ['/proc/self/environ', /is refused/],
      ['/sys/kernel/mm/transparent_hugepage/enabled', /is refused|cannot read/],
      [fifo, /ca\.fifo is not a regular file/],
      [dir, /is not a regular file/],
      ['/nonexistent/ca.pem', /cannot read \/nonexistent\/ca\.pem: ENOENT/],
      [notPem, /validationContext\.trustedCa: not a PEM certificate/],
    ];
    const results = caFromFiles(cases.map(([file]) => file));
    cases.forEach(([file, want], i) => {
      const errors = results[i]!;
      assert.equal(errors.length, 1, `${file}: ${errors.join('; ')}`);
      assert.match(errors[0]!, want, file);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
