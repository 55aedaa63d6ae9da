import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { AccessLogSchema } from '../../../src/gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { FileAccessLogSchema } from '../../../src/gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { compileAccessLog } from '../../../src/proxy/telemetry/access-log-sink.js';
import { StreamInfo } from '../../../src/proxy/telemetry/stream-info.js';

test('compiling a file access log creates no file; the first line does', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-sink-'));
  try {
    const file = join(dir, 'access.log');
    const typed = anyPack(FileAccessLogSchema, create(FileAccessLogSchema, { path: file, accessLogFormat: { case: 'logFormat', value: { format: { case: 'textFormat', value: '%REQ(:METHOD)%\n' } } } }));
    const errors: string[] = [];
    const sink = compileAccessLog(create(AccessLogSchema, { name: 'file', configType: { case: 'typedConfig', value: typed } }), 'accessLog[0]', errors);
    assert.deepEqual(errors, []);
    assert.ok(sink);
    assert.equal(existsSync(file), false, 'compiled only: nothing opened');
    const s = new StreamInfo();
    s.method = 'GET';
    sink.write(sink.format(s));
    for (let i = 0; i < 100 && !(existsSync(file) && readFileSync(file, 'utf8') !== ''); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(readFileSync(file, 'utf8'), 'GET\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
