'use strict';
// The independent price of a call: @pydantic/genai-prices reads the usage out of the
// response the fake provider sent, with its own extractors (extractUsage), and prices
// it (calcPrice). It runs on the price data the collector's embedded table was
// generated from (PRICES_DATA, a genai-prices data.json), so that a difference is a
// difference in reading or arithmetic, never in the data's date.

const fs = require('node:fs');
const prices = require('@pydantic/genai-prices');

let dataSource = 'the @pydantic/genai-prices package';

function useData(path) {
  const providers = JSON.parse(fs.readFileSync(path, 'utf8'));
  prices.updatePrices(({ setProviderData }) => setProviderData(providers));
  dataSource = path;
}

// price returns the oracle's price of one answered request, or an explanation of why it
// has none.
function price(answer, call, timestamp) {
  const provider = prices.findProvider({ providerId: answer.provider });
  if (!provider) {
    return { error: `genai-prices has no provider ${answer.provider}` };
  }
  const { usage, model } = prices.extractUsage(provider, answer.response, answer.flavor);
  const calc = (u) => prices.calcPrice(u, model || call.responseModel, { providerId: answer.provider, timestamp });
  const result = calc(usage);
  if (!result) {
    return { usage, error: `genai-prices cannot price ${model} of ${answer.provider}` };
  }
  // What the call costs when a library reports less than the provider returned: the
  // cached tokens as plain input (a library that drops them), or every cache write at
  // the 5-minute price (one that does not tell the 1-hour writes apart).
  const noCache = { ...usage };
  for (const k of Object.keys(noCache)) if (k.startsWith('cache_')) delete noCache[k];
  const no1h = { ...usage };
  delete no1h.cache_write_1h_tokens;
  delete no1h.cache_write_5m_tokens;
  return {
    usage,
    model: result.model.id,
    provider: result.provider.id,
    cost: result.total_price,
    costNoCache: calc(noCache).total_price,
    costNo1h: calc(no1h).total_price,
  };
}

// openlitPricing is OpenLIT's pricing file (USD per thousand tokens, no tiers) for the
// given calls' models, with the base list prices of the same data.
function openlitPricing(calls) {
  const out = { chat: {}, embeddings: {} };
  const base = (p) => (p === undefined ? undefined : typeof p === 'number' ? p : p.base);
  const perK = (p) => (base(p) === undefined ? undefined : base(p) / 1000);
  for (const call of calls) {
    const r = prices.calcPrice({ input_tokens: 1 }, call.model, { providerId: call.provider });
    if (!r) continue;
    const mp = r.model_price;
    if (call.api === 'embeddings') {
      out.embeddings[call.model] = perK(mp.input_mtok);
      continue;
    }
    const entry = { promptPrice: perK(mp.input_mtok), completionPrice: perK(mp.output_mtok) };
    if (mp.cache_read_mtok !== undefined) entry.cacheReadPrice = perK(mp.cache_read_mtok);
    if (mp.cache_write_mtok !== undefined) entry.cacheCreationPrice = perK(mp.cache_write_mtok);
    out.chat[call.model] = entry;
    out.chat[call.responseModel] = entry;
  }
  return out;
}

module.exports = { useData, price, openlitPricing, dataSource: () => dataSource };
