/** Istio's template: proxyMetadata ISTIO_META_ENABLE_HBONE=true labels the pod networking.istio.io/tunnel (its own value, else "http"). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { injectedLabels } from '../../../src/inject/pod-metadata.js';
import { injectedMetadata } from '../../../src/local/up/injection.js';
import type { WorkloadMeta } from '../../../src/inject/workload-meta.js';

const w: WorkloadMeta = { name: 'web', namespace: 'shop', kind: 'Deployment', apiVersion: 'apps/v1' };

test('the injector labels an HBONE sidecar for the tunnel, and only it', () => {
  assert.equal(injectedLabels({ app: 'web' }, w, { ISTIO_META_ENABLE_HBONE: 'true' })['networking.istio.io/tunnel'], 'http');
  assert.equal(injectedLabels({ 'networking.istio.io/tunnel': 'custom' }, w, { ISTIO_META_ENABLE_HBONE: 'true' })['networking.istio.io/tunnel'], 'custom');
  assert.equal(injectedLabels({ app: 'web' }, w, { ISTIO_META_ENABLE_HBONE: 'false' })['networking.istio.io/tunnel'], undefined);
  assert.equal(injectedLabels({ app: 'web' }, w)['networking.istio.io/tunnel'], undefined);
});

test('trellis up labels its HBONE sidecars the same way', () => {
  assert.equal(injectedMetadata({ app: 'web' }, 'web', true).labels['networking.istio.io/tunnel'], 'http');
  assert.equal(injectedMetadata({ app: 'web' }, 'web').labels['networking.istio.io/tunnel'], undefined);
});
