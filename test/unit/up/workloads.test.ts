import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyObject } from '../../../src/config/objects.js';
import { desiredWorkloads, reconcile, type PodRef } from '../../../src/local/up/workloads.js';
import { deploymentPodName, templateHash } from '../../../src/local/up/pod-names.js';

function deployment(name: string, replicas: number | undefined, image = 'v1'): AnyObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'shop' },
    spec: { ...(replicas === undefined ? {} : { replicas }), selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image }] } } },
  } as AnyObject;
}
const bare = (name: string, image = 'x'): AnyObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels: { app: name } }, spec: { containers: [{ name, image }] } }) as AnyObject;

let n = 0;
const suffix = () => `s${String(n++).padStart(4, '0')}`;
const running = (c: ReturnType<typeof reconcile>['create']): PodRef[] => c.map(({ namespace, name, owner }) => ({ namespace, name, owner }));

test('a Deployment wants `replicas` pods (1 by default), named NAME-<template hash>-<suffix>', () => {
  const w = desiredWorkloads([deployment('web', 3), deployment('api', undefined)]);
  const c = reconcile(w, [], suffix);
  assert.equal(c.create.filter((p) => p.owner.name === 'web').length, 3);
  assert.equal(c.create.filter((p) => p.owner.name === 'api').length, 1);
  const hash = templateHash((deployment('web', 3).spec as { template: unknown }).template);
  for (const p of c.create.filter((x) => x.owner.name === 'web')) assert.match(p.name, new RegExp(`^web-${hash}-s\\d{4}$`));
  assert.deepEqual(c.remove, []);
});

test('nothing to do when the pods match; scaling down removes the newest; a removed Deployment removes its pods', () => {
  const w = desiredWorkloads([deployment('web', 3)]);
  const pods = running(reconcile(w, [], suffix).create);
  assert.deepEqual(reconcile(w, pods, suffix), { create: [], remove: [] });
  const down = reconcile(desiredWorkloads([deployment('web', 1)]), pods, suffix);
  assert.deepEqual(down.create, []);
  assert.deepEqual(down.remove, [`shop/${pods[2]!.name}`, `shop/${pods[1]!.name}`]);
  assert.deepEqual(reconcile([], pods, suffix).remove.sort(), pods.map((p) => `shop/${p.name}`).sort());
});

test('a changed template replaces the pods with new ones under a new hash', () => {
  const before = running(reconcile(desiredWorkloads([deployment('web', 2)]), [], suffix).create);
  const after = reconcile(desiredWorkloads([deployment('web', 2, 'v2')]), before, suffix);
  assert.deepEqual(after.remove.sort(), before.map((p) => `shop/${p.name}`).sort());
  assert.equal(after.create.length, 2);
  assert.notEqual(after.create[0]!.owner.hash, before[0]!.owner.hash);
});

test('a bare Pod keeps its name; edited, it is removed and created again', () => {
  const first = reconcile(desiredWorkloads([bare('db')]), [], suffix);
  assert.deepEqual(first.create.map((p) => p.name), ['db']);
  const edited = reconcile(desiredWorkloads([bare('db', 'y')]), running(first.create), suffix);
  assert.deepEqual(edited.remove, ['shop/db']);
  assert.deepEqual(edited.create.map((p) => p.name), ['db']);
});

test('pod names: the hash is stable and spelled in Kubernetes\' alphabet; long names are cut to a DNS label', () => {
  const t = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'x' }] } };
  assert.equal(templateHash(t), templateHash(JSON.parse(JSON.stringify(t))));
  assert.match(templateHash(t), /^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
  assert.notEqual(templateHash(t), templateHash({ ...t, spec: { containers: [{ name: 'y' }] } }));
  const long = deploymentPodName('a'.repeat(70), 'bcdfghjklm', 'xyz12');
  assert.ok(long.length <= 63, long);
  assert.ok(long.endsWith('-xyz12'));
});
