/**
 * The HTTP filter chain runner (src/proxy/filters/chain.ts): decodeHeaders in
 * order until a filter stops, continueDecoding after the one that stopped,
 * encodeHeaders back through the filters before the responder, last first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { continueDecoding, decodeHeaders, encodeHeaders } from '../../../src/proxy/filters/chain.js';
import { CONTINUE, STOP, type FilterStatus, type HttpFilter } from '../../../src/proxy/filters/filter.js';
import type { HttpStream } from '../../../src/proxy/filters/stream.js';
import type { Headers } from '../../../src/proxy/router/header-ops.js';

function filter(name: string, log: string[], decide: () => FilterStatus, encode = false): HttpFilter {
  return {
    name,
    decodeHeaders: () => { log.push(`decode ${name}`); return decide(); },
    ...(encode ? { encodeHeaders: (_s: HttpStream, status: number, h: Headers) => { log.push(`encode ${name} ${status}`); h[`x-${name}`] = '1'; } } : {}),
  };
}

/** Only what the runner reads of a stream. */
const streamOf = (filters: HttpFilter[]) => ({ filters, filterIndex: 0 }) as unknown as HttpStream;

test('filters decode in order; the router stops the chain and the response encodes back, last first', () => {
  const log: string[] = [];
  const s = streamOf([filter('a', log, () => CONTINUE, true), filter('b', log, () => CONTINUE), filter('c', log, () => CONTINUE, true), filter('router', log, () => STOP)]);
  decodeHeaders(s);
  assert.deepEqual(log, ['decode a', 'decode b', 'decode c', 'decode router']);
  assert.equal(s.filterIndex, 3);
  const h: Headers = {};
  encodeHeaders(s, 200, h);
  assert.deepEqual(log.slice(4), ['encode c 200', 'encode a 200']);
  assert.deepEqual(h, { 'x-c': '1', 'x-a': '1' });
});

test('a filter that stops holds the chain; continueDecoding resumes after it', () => {
  const log: string[] = [];
  const s = streamOf([filter('a', log, () => CONTINUE, true), filter('hold', log, () => STOP, true), filter('router', log, () => STOP)]);
  decodeHeaders(s);
  assert.deepEqual(log, ['decode a', 'decode hold']);
  continueDecoding(s);
  assert.deepEqual(log, ['decode a', 'decode hold', 'decode router']);
});

test('a local reply from a filter encodes through the filters before it only', () => {
  const log: string[] = [];
  const s = streamOf([filter('a', log, () => CONTINUE, true), filter('deny', log, () => STOP, true), filter('router', log, () => STOP)]);
  decodeHeaders(s);
  encodeHeaders(s, 403, {});
  assert.deepEqual(log, ['decode a', 'decode deny', 'encode a 403']);
});
