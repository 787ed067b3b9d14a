'use strict';

const express = require('express');
const { createProvider } = require('./provider');

function fingerprint(body) {
  const { orderId, amountCents, currency } = body || {};
  return JSON.stringify([orderId, amountCents, currency]);
}

function createApp(provider = createProvider()) {
  const app = express();
  app.use(express.json());
  const seen = new Map(); // Idempotency-Key -> { fingerprint, status, body }

  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  app.post('/payments', (req, res) => {
    const key = req.get('Idempotency-Key');
    if (!key) {
      return res.status(400).json({ error: 'Idempotency-Key header required' });
    }
    const print = fingerprint(req.body);
    const earlier = seen.get(key);
    if (earlier) {
      if (earlier.fingerprint !== print) {
        return res.status(409).json({ error: 'Idempotency-Key reused with a different request' });
      }
      return res.status(earlier.status).json(earlier.body);
    }
    const { orderId, amountCents, currency } = req.body;
    const payment = provider.charge({ orderId, amountCents, currency });
    const answer = { status: 201, body: { paymentId: payment.id, status: 'charged' } };
    seen.set(key, { fingerprint: print, ...answer });
    return res.status(answer.status).json(answer.body);
  });

  app.locals.provider = provider;
  return app;
}

module.exports = { createApp };
