'use strict';
// Held-out: unknown products are 422; the total is price times quantity.
const test = require('node:test');
const assert = require('node:assert');
const { createApp } = require('../../src/app');
const { call } = require('./http');

test('unknown skus are 422', async () => {
  const app = createApp();
  const res = await call(app, 'POST', '/orders', { customerId: 'c-1', currency: 'EUR',
    items: [{ sku: 'BOOK-001', quantity: 1 }, { sku: 'BOOK-999', quantity: 2 }] });
  assert.strictEqual(res.status, 422, res.text);
  assert.deepStrictEqual(res.json.skus, ['BOOK-999']);
  assert.strictEqual(app.locals.orders.length, 0);
});

test('the total is price times quantity', async () => {
  const res = await call(createApp(), 'POST', '/orders', { customerId: 'c-1', currency: 'USD',
    items: [{ sku: 'BOOK-001', quantity: 2 }, { sku: 'MUG-001', quantity: 3 }] });
  assert.strictEqual(res.status, 201, res.text);
  assert.strictEqual(res.json.totalCents, 2 * 1250 + 3 * 750);
});
