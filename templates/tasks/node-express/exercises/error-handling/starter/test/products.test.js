'use strict';
// Checks that hold before and after your change.
const test = require('node:test');
const assert = require('node:assert');
const { findProduct } = require('../src/repository');

test('a known product is found', async () => {
  assert.strictEqual((await findProduct('1')).name, 'Oak table');
});
