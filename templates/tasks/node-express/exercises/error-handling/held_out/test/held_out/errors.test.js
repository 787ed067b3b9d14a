'use strict';
// Held-out: errors are JSON answers, async errors are caught, malformed JSON is a 400.
const test = require('node:test');
const assert = require('node:assert');
const { createApp } = require('../../src/app');
const { call } = require('./http');

test('unknown routes answer a JSON 404', { timeout: 5000 }, async () => {
  const res = await call(createApp(), 'GET', '/no/such/route');
  assert.strictEqual(res.status, 404);
  assert.deepStrictEqual(res.json, { error: 'not found' });
});

test('async lookup errors become JSON answers', { timeout: 5000 }, async () => {
  const app = createApp();
  const missing = await call(app, 'GET', '/products/999');
  assert.strictEqual(missing.status, 404, missing.text);
  assert.deepStrictEqual(missing.json, { error: 'product 999 not found' });
  const broken = await call(app, 'GET', '/products/boom');
  assert.strictEqual(broken.status, 500, broken.text);
  assert.deepStrictEqual(broken.json, { error: 'internal error' });
  const after = await call(app, 'GET', '/products/1');
  assert.strictEqual(after.status, 200);
});

test('malformed JSON is a JSON 400', { timeout: 5000 }, async () => {
  const res = await call(createApp(), 'POST', '/products', '{"name": "Desk", ');
  assert.strictEqual(res.status, 400, res.text);
  assert.deepStrictEqual(res.json, { error: 'invalid JSON' });
});
