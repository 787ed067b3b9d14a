'use strict';

// Catalogue prices in cents, by SKU.
const PRICES = Object.freeze({
  'BOOK-001': 1250,
  'BOOK-002': 899,
  'MUG-001': 750,
  'PEN-001': 199,
});

module.exports = { PRICES };
