/**
 * Bundles the compiled CLI (dist/src/cli/main.js) into dist/bundle/ with
 * esbuild: one chunk per lazily imported subcommand, our code, the generated
 * Envoy API and @bufbuild/protobuf inlined. Why: Node's ESM loader resolves
 * and links each of the ~400 modules separately, ~140 ms of the proxy's
 * start-up (bench/results/proxy-*; docs/ARCHITECTURE.md). Other packages stay
 * external (loaded from node_modules when a subcommand needs them): some read
 * files next to their own sources at run time (@grpc/grpc-js-xds's protos).
 */
import { build } from 'esbuild';
import { chmodSync, copyFileSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const INLINE = new Set(['@bufbuild/protobuf']);

/** node_modules packages are external unless listed in INLINE. */
const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const pkg = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return INLINE.has(pkg) ? undefined : { external: true };
    });
  },
};

/**
 * @bufbuild/protobuf 2.x builds a registry per generated file and, for each, re-adds every transitive
 * dependency along every import path (registry.js addFile(dep, false, true)): with Envoy's diamond-shaped
 * imports that is ~100 ms of the proxy's start-up. Adding a file a second time to the same registry
 * changes nothing (same names, same descriptors), so the bundle skips the repeat. The build fails if the
 * library's code no longer has this shape, rather than silently dropping the fix.
 */
const REGISTRY_ADD_FILE = 'addFile(file, skipTypes, withDeps) {\n            files.set(file.proto.name, file);';
const registryFix = {
  name: 'protobuf-registry-fix',
  setup(b) {
    b.onLoad({ filter: /@bufbuild[\\/]protobuf[\\/]dist[\\/]esm[\\/]registry\.js$/ }, (args) => {
      const src = readFileSync(args.path, 'utf8');
      if (!src.includes(REGISTRY_ADD_FILE)) throw new Error(`${args.path}: addFile() changed; review scripts/bundle.mjs registryFix`);
      const fixed = src.replace(REGISTRY_ADD_FILE, `addFile(file, skipTypes, withDeps) {
            if (!skipTypes && withDeps) {
                if (addedWithDeps.has(file)) return;
                addedWithDeps.add(file);
            }
            files.set(file.proto.name, file);`)
        .replace('function createBaseRegistry() {', 'function createBaseRegistry() {\n    const addedWithDeps = new Set();');
      if (!fixed.includes('const addedWithDeps = new Set();')) throw new Error(`${args.path}: createBaseRegistry() changed; review scripts/bundle.mjs registryFix`);
      return { contents: fixed, loader: 'js' };
    });
  },
};

rmSync('dist/bundle', { recursive: true, force: true });
await build({
  entryPoints: { main: 'dist/src/cli/main.js' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  plugins: [externals, registryFix],
  logLevel: 'warning',
});
chmodSync('dist/bundle/main.js', 0o755);

// The dashboard's page (src/dashboard/web): type-checked against the DOM (its own tsconfig: the CLI's has no DOM),
// bundled for the browser with everything it imports, and served from dist/bundle/dashboard/ — no CDN, offline.
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'src/dashboard/web/tsconfig.json'], { stdio: 'inherit' });
await build({
  entryPoints: { app: 'src/dashboard/web/main.ts' },
  outdir: 'dist/bundle/dashboard',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'chrome110',
  minify: true,
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(`src/dashboard/web/${f}`, `dist/bundle/dashboard/${f}`);
