'use strict';
// An app module whose functions throw: named, method, anonymous and async frames.
class OrderParseError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'OrderParseError';
  }
}

function parseOrder(raw) {
  return [raw].map((r) => {
    if (!r.id) {
      throw new OrderParseError('order has no id', { cause: new TypeError('id is undefined') });
    }
    return r;
  })[0];
}

module.exports = { parseOrder, OrderParseError };
