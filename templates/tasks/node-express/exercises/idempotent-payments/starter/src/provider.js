'use strict';

// A stand-in for the payment provider's client: charge() takes money, charges() counts it.
function createProvider() {
  const charged = [];
  return {
    charge({ orderId, amountCents, currency }) {
      const payment = { id: `pay_${charged.length + 1}`, orderId, amountCents, currency };
      charged.push(payment);
      return payment;
    },
    charges: () => charged.length,
  };
}

module.exports = { createProvider };
