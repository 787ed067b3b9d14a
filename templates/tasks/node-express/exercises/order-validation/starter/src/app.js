'use strict';

const express = require('express');
const { PRICES } = require('./catalogue');

function createApp() {
  const app = express();
  app.use(express.json());
  const orders = [];

  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  app.get('/orders', (req, res) => res.json(orders));

  app.post('/orders', (req, res) => {
    const { customerId, currency, items } = req.body;
    const totalCents = items.reduce((sum, item) => sum + item.quantity, 0);
    const order = { id: orders.length + 1, customerId, currency, items, totalCents };
    orders.push(order);
    res.status(201).json(order);
  });

  app.locals.orders = orders;
  app.locals.prices = PRICES;
  return app;
}

module.exports = { createApp };
