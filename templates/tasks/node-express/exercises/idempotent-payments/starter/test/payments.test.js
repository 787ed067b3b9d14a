'use strict';
// Checks that hold before and after your change.
const test = require('node:test');
const assert = require('node:assert');
const { createProvider } = require('../src/provider');

test('the provider counts charges', () => {
  const provider = createProvider();
  provider.charge({ orderId: 'o-1', amountCents: 100, currency: 'EUR' });
  assert.strictEqual(provider.charges(), 1);
});
