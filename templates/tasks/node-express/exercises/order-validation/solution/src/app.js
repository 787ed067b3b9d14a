'use strict';

const express = require('express');
const { PRICES } = require('./catalogue');

const CURRENCIES = ['EUR', 'USD'];

function validateOrder(body) {
  const errors = [];
  const add = (field, message) => errors.push({ field, message });
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    add('body', 'must be a JSON object');
    return errors;
  }
  if (typeof body.customerId !== 'string' || body.customerId.trim() === '') {
    add('customerId', 'must be a non-empty string');
  }
  if (!CURRENCIES.includes(body.currency)) {
    add('currency', `must be one of ${CURRENCIES.join(', ')}`);
  }
  if (!Array.isArray(body.items) || body.items.length === 0) {
    add('items', 'must be a non-empty array');
    return errors;
  }
  body.items.forEach((item, i) => {
    if (item === null || typeof item !== 'object') {
      add(`items[${i}]`, 'must be an object');
      return;
    }
    if (typeof item.sku !== 'string' || item.sku === '') {
      add(`items[${i}].sku`, 'must be a non-empty string');
    }
    if (!Number.isInteger(item.quantity) || item.quantity < 1) {
      add(`items[${i}].quantity`, 'must be an integer of 1 or more');
    }
  });
  return errors;
}

function createApp() {
  const app = express();
  app.use(express.json());
  const orders = [];

  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  app.get('/orders', (req, res) => res.json(orders));

  app.post('/orders', (req, res) => {
    const errors = validateOrder(req.body);
    if (errors.length > 0) {
      return res.status(400).json({ errors });
    }
    const { customerId, currency, items } = req.body;
    const unknown = items.map((item) => item.sku).filter((sku) => !(sku in PRICES));
    if (unknown.length > 0) {
      return res.status(422).json({ error: 'unknown sku', skus: unknown });
    }
    const totalCents = items.reduce((sum, item) => sum + PRICES[item.sku] * item.quantity, 0);
    const order = { id: orders.length + 1, customerId, currency, items, totalCents };
    orders.push(order);
    return res.status(201).json(order);
  });

  app.locals.orders = orders;
  app.locals.prices = PRICES;
  return app;
}

module.exports = { createApp, validateOrder };
