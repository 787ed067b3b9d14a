'use strict';
// Held-out: POST /payments is idempotent by Idempotency-Key.
const test = require('node:test');
const assert = require('node:assert');
const { createApp } = require('../../src/app');
const { call } = require('./http');

const PAYMENT = { orderId: 'o-42', amountCents: 1999, currency: 'EUR' };

test('a payment without a key is 400', async () => {
  const app = createApp();
  const res = await call(app, 'POST', '/payments', PAYMENT);
  assert.strictEqual(res.status, 400, res.text);
  assert.deepStrictEqual(res.json, { error: 'Idempotency-Key header required' });
  assert.strictEqual(app.locals.provider.charges(), 0);
});

test('a retry replays the first response and charges once', async () => {
  const app = createApp();
  const first = await call(app, 'POST', '/payments', PAYMENT, { 'Idempotency-Key': 'k-1' });
  const again = await call(app, 'POST', '/payments', PAYMENT, { 'Idempotency-Key': 'k-1' });
  assert.strictEqual(first.status, 201, first.text);
  assert.strictEqual(again.status, first.status);
  assert.deepStrictEqual(again.json, first.json);
  assert.strictEqual(app.locals.provider.charges(), 1);
  const other = await call(app, 'POST', '/payments', PAYMENT, { 'Idempotency-Key': 'k-2' });
  assert.notStrictEqual(other.json.paymentId, first.json.paymentId);
  assert.strictEqual(app.locals.provider.charges(), 2);
});

test('a reused key with another body is 409', async () => {
  const app = createApp();
  await call(app, 'POST', '/payments', PAYMENT, { 'Idempotency-Key': 'k-1' });
  const res = await call(app, 'POST', '/payments', { ...PAYMENT, amountCents: 1 },
    { 'Idempotency-Key': 'k-1' });
  assert.strictEqual(res.status, 409, res.text);
  assert.deepStrictEqual(res.json, { error: 'Idempotency-Key reused with a different request' });
  assert.strictEqual(app.locals.provider.charges(), 1);
});
