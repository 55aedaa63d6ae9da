// Lays out the Envoy v3 API sources for `buf generate` under build/proto.
//
// Why a copy: @grpc/grpc-js-xds ships the real envoy-api, xds, googleapis and
// protoc-gen-validate trees, but its validate.proto predates the envoy-api
// snapshot beside it, which already uses the `ignore_empty` rule field. Those
// rules are annotations (they never reach the wire), so the copy adds the
// missing field to every *Rules message instead of dropping the annotations.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const xdsRoot = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const out = join(process.cwd(), 'build', 'proto');
const trees = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const tree of trees) cpSync(join(xdsRoot, 'deps', tree), join(out, tree), { recursive: true });

const validatePath = join(out, 'protoc-gen-validate', 'validate', 'validate.proto');
const patched = readFileSync(validatePath, 'utf8').replace(
  /(message \w+Rules \{\r?\n)([\s\S]*?\n\})/g,
  (whole, head, body) => (body.includes('ignore_empty') ? whole : `${head}    optional bool ignore_empty = 1000;\n${body}`),
);
writeFileSync(validatePath, patched);
