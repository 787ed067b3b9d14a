'use strict';
// Held-out: POST /orders validates its body (400 naming every invalid field) and stores nothing.
const test = require('node:test');
const assert = require('node:assert');
const { createApp } = require('../../src/app');
const { call } = require('./http');

const fields = (res) => (res.json && res.json.errors ? res.json.errors.map((e) => e.field) : []);

test('rejects invalid bodies naming every field', async () => {
  const app = createApp();
  let res = await call(app, 'POST', '/orders', { currency: 'EUR' });
  assert.strictEqual(res.status, 400, res.text);
  assert.deepStrictEqual(fields(res).sort(), ['customerId', 'items']);
  res = await call(app, 'POST', '/orders', { customerId: 'c-1', currency: 'GBP',
    items: [{ sku: 'PEN-001', quantity: 1 }, { sku: 'MUG-001', quantity: 1.5 }, { quantity: 0 }] });
  assert.strictEqual(res.status, 400, res.text);
  assert.deepStrictEqual(fields(res).sort(),
    ['currency', 'items[1].quantity', 'items[2].quantity', 'items[2].sku']);
});

test('stores nothing invalid', async () => {
  const app = createApp();
  await call(app, 'POST', '/orders', { customerId: 'c-1', currency: 'EUR', items: [] });
  await call(app, 'POST', '/orders', { customerId: '', currency: 'EUR',
    items: [{ sku: 'PEN-001', quantity: 1 }] });
  assert.strictEqual(app.locals.orders.length, 0);
});
