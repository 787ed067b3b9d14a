'use strict';

const express = require('express');
const { createProvider } = require('./provider');

function createApp(provider = createProvider()) {
  const app = express();
  app.use(express.json());

  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  app.post('/payments', (req, res) => {
    const { orderId, amountCents, currency } = req.body;
    const payment = provider.charge({ orderId, amountCents, currency });
    res.status(201).json({ paymentId: payment.id, status: 'charged' });
  });

  app.locals.provider = provider;
  return app;
}

module.exports = { createApp };
