import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { HeaderValueOptionSchema, HeaderValueOption_HeaderAppendAction as A } from '../../../src/gen/envoy/config/core/v3/base_pb.js';
import { applyHeaderOps, levelOps, type Headers } from '../../../src/proxy/router/header-ops.js';

test('header append actions and removal, removes first within a level', () => {
  const opt = (key: string, value: string, appendAction: A, append?: boolean) => create(HeaderValueOptionSchema, { header: { key, value }, appendAction, append });
  const errors: string[] = [];
  const ops = levelOps([
    opt('X-Append', 'two', A.APPEND_IF_EXISTS_OR_ADD),
    opt('x-absent', 'new', A.ADD_IF_ABSENT),
    opt('x-present', 'kept?', A.ADD_IF_ABSENT),
    opt('x-over', 'set', A.OVERWRITE_IF_EXISTS_OR_ADD),
    opt('x-only-if', 'nope', A.OVERWRITE_IF_EXISTS),
    opt('x-legacy', 'v', A.APPEND_IF_EXISTS_OR_ADD, false),
    opt('x-gone', 'readded', A.APPEND_IF_EXISTS_OR_ADD),
  ], ['x-gone'], 'request', errors);
  assert.deepEqual(errors, []);
  const h: Headers = { 'x-append': 'one', 'x-present': 'old', 'x-over': 'old', 'x-legacy': 'old', 'x-gone': 'bye' };
  applyHeaderOps(h, ops);
  assert.deepEqual(h, {
    'x-append': ['one', 'two'], 'x-absent': 'new', 'x-present': 'old', 'x-over': 'set', 'x-legacy': 'v', 'x-gone': 'readded',
  });
});

test('a header without a key is an error with its path', () => {
  const errors: string[] = [];
  levelOps([create(HeaderValueOptionSchema, {})], [], 'virtualHosts[0].request', errors);
  assert.deepEqual(errors, ['virtualHosts[0].requestHeadersToAdd[0].header.key: missing']);
});
