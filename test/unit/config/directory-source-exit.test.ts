import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const moduleUrl = pathToFileURL(join(import.meta.dirname, '../../../src/controlplane/sources/directory-source.js')).href;

test('stop() closes the watcher and timers: the process exits on its own', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'trellis-exit-'));
  try {
    await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\n');
    const script = `
      const { DirectorySource } = await import(${JSON.stringify(moduleUrl)});
      const s = new DirectorySource(${JSON.stringify(dir)}, { pollMs: 50 });
      let n = 0;
      await s.start((st) => { n = st.objects.size; });
      await new Promise((r) => setTimeout(r, 100));
      await s.stop();
      console.log('objects=' + n);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TRELLIS_LOG: 'error' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('child did not exit within 5 s after stop()'));
      }, 5000);
      child.on('exit', (c) => (clearTimeout(timer), resolve(c)));
    });
    assert.equal(code, 0);
    assert.equal(out.trim(), 'objects=1');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
