'use strict';

// A stand-in for the database: async lookups that can fail.
class NotFoundError extends Error {}

const PRODUCTS = new Map([
  ['1', { id: '1', name: 'Oak table', priceCents: 45000 }],
  ['2', { id: '2', name: 'Linen chair', priceCents: 12000 }],
]);

async function findProduct(id) {
  await new Promise((resolve) => setImmediate(resolve));
  if (id === 'boom') {
    throw new Error('connection to db-primary:5432 reset by peer');
  }
  if (!PRODUCTS.has(id)) {
    throw new NotFoundError(`product ${id} not found`);
  }
  return PRODUCTS.get(id);
}

async function addProduct(product) {
  const id = String(PRODUCTS.size + 1);
  PRODUCTS.set(id, { id, ...product });
  return PRODUCTS.get(id);
}

module.exports = { NotFoundError, findProduct, addProduct };
