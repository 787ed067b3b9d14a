'use strict';
// Checks that hold before and after your change.
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const { createApp } = require('../src/app');

function call(app, method, path, body) {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, () => {
      const data = body === undefined ? '' : JSON.stringify(body);
      const req = http.request({ port: server.address().port, method, path,
        headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => { server.close(); resolve({ status: res.statusCode, text }); });
      });
      req.on('error', (err) => { server.close(); reject(err); });
      req.end(data);
    });
  });
}

test('health answers', async () => {
  const res = await call(createApp(), 'GET', '/health');
  assert.strictEqual(res.status, 200);
});

test('a valid order is stored', async () => {
  const app = createApp();
  const res = await call(app, 'POST', '/orders',
    { customerId: 'c-1', currency: 'EUR', items: [{ sku: 'PEN-001', quantity: 1 }] });
  assert.strictEqual(res.status, 201);
  assert.strictEqual(app.locals.orders.length, 1);
});
