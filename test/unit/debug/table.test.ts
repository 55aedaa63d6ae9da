/** Tables as Go's text/tabwriter prints them (istioctl's writer): widths per column block, the last cell never padded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable } from '../../../src/debug/format/table.js';

test('each column as wide as its widest cell plus the padding; the last cell as it is', () => {
  assert.equal(formatTable([['NAME', 'PORT', 'TYPE'], ['reviews', '9080', 'EDS'], ['db', '5432', 'ORIGINAL_DST']], 5),
    'NAME        PORT     TYPE\n' +
    'reviews     9080     EDS\n' +
    'db          5432     ORIGINAL_DST\n');
});

test('empty cells keep their column; an empty last cell leaves the padding of the one before', () => {
  assert.equal(formatTable([['A', 'B', 'C'], ['', 'x', ''], ['aa', '', 'c']], 1), 'A  B C\n   x \naa   c\n');
});

test('widths count characters, not bytes', () => {
  assert.equal(formatTable([['✔ ok', 'x'], ['ab', 'y']], 2), '✔ ok  x\nab    y\n');
});

test('a line with fewer cells ends a column block: the lines after it are measured on their own', () => {
  assert.equal(formatTable([['a', 'b', 'c'], ['aaaaaa'], ['x', 'yyy', 'z'], ['xx', 'y', 'z']], 1),
    'a b c\n' +
    'aaaaaa\n' +
    'x  yyy z\n' +
    'xx y   z\n');
});

test('no rows, no output', () => {
  assert.equal(formatTable([], 5), '');
});
