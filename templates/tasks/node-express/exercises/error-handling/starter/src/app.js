'use strict';

const express = require('express');
const { findProduct, addProduct } = require('./repository');

function createApp() {
  const app = express();
  app.use(express.json());

  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  app.get('/products/:id', async (req, res) => {
    const product = await findProduct(req.params.id);
    res.json(product);
  });

  app.post('/products', async (req, res) => {
    const product = await addProduct({ name: req.body.name, priceCents: req.body.priceCents });
    res.status(201).json(product);
  });

  return app;
}

module.exports = { createApp };
