'use strict';

const express = require('express');
const { NotFoundError, findProduct, addProduct } = require('./repository');

// Express 4 does not await handlers: a rejected promise must be handed to next().
const asyncHandler = (fn) => (req, res, next) => Promise.resolve(fn(req, res, next)).catch(next);

function createApp() {
  const app = express();
  app.use(express.json());

  app.get('/health', (req, res) => res.json({ status: 'ok' }));

  app.get('/products/:id', asyncHandler(async (req, res) => {
    const product = await findProduct(req.params.id);
    res.json(product);
  }));

  app.post('/products', asyncHandler(async (req, res) => {
    const product = await addProduct({ name: req.body.name, priceCents: req.body.priceCents });
    res.status(201).json(product);
  }));

  app.use((req, res) => res.status(404).json({ error: 'not found' }));

  // eslint-disable-next-line no-unused-vars -- Express knows an error middleware by its 4 arguments
  app.use((err, req, res, next) => {
    if (err.type === 'entity.parse.failed') {
      return res.status(400).json({ error: 'invalid JSON' });
    }
    if (err instanceof NotFoundError) {
      return res.status(404).json({ error: err.message });
    }
    return res.status(500).json({ error: 'internal error' });
  });

  return app;
}

module.exports = { createApp };
