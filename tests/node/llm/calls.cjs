'use strict';
// The LLM calls the scenarios make, with the usage the fake providers answer. Token
// counts are chosen so that every price bucket shows: cached reads, 5-minute and 1-hour
// cache writes (Anthropic reports input_tokens without them), reasoning tokens, the
// >200k-token long-context prices, and service tiers.

const CALLS = {};

function call(id, c) {
  CALLS[id] = { id, ...c };
}

// OpenAI: usage.prompt_tokens counts the cached tokens, completion_tokens the reasoning.
call('oa-chat', {
  provider: 'openai', api: 'chat', model: 'gpt-4o', responseModel: 'gpt-4o-2024-08-06',
  usage: { input: 1000, cacheRead: 200, output: 500 },
});
call('oa-chat-stream', {
  provider: 'openai', api: 'chat', stream: true, model: 'gpt-4o-mini', responseModel: 'gpt-4o-mini-2024-07-18',
  usage: { input: 1200, output: 300 },
});
call('oa-flex', {
  provider: 'openai', api: 'chat', model: 'o4-mini', responseModel: 'o4-mini-2025-04-16', serviceTier: 'flex',
  usage: { input: 2000, cacheRead: 1024, output: 1500, reasoning: 1000 },
});
call('oa-priority', {
  provider: 'openai', api: 'chat', model: 'gpt-4.1', responseModel: 'gpt-4.1-2025-04-14', serviceTier: 'priority',
  usage: { input: 5000, output: 200 },
});
call('oa-embed', {
  provider: 'openai', api: 'embeddings', model: 'text-embedding-3-small', responseModel: 'text-embedding-3-small',
  usage: { input: 120, output: 0 },
});
call('oa-responses', {
  provider: 'openai', api: 'responses', model: 'gpt-5', responseModel: 'gpt-5-2025-08-07',
  usage: { input: 3000, cacheRead: 1000, output: 800, reasoning: 500 },
});
call('oa-responses-stream', {
  provider: 'openai', api: 'responses', stream: true, model: 'gpt-4.1-mini', responseModel: 'gpt-4.1-mini-2025-04-14',
  usage: { input: 900, output: 100 },
});

// Anthropic: input_tokens leaves out cache reads and writes.
call('an-cache', {
  provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-5', responseModel: 'claude-sonnet-4-5-20250929',
  usage: { input: 50, cacheRead: 4000, cacheWrite5m: 600, cacheWrite1h: 400, output: 300 },
});
call('an-long', {
  provider: 'anthropic', api: 'messages', model: 'claude-sonnet-4-5', responseModel: 'claude-sonnet-4-5-20250929',
  usage: { input: 250000, output: 1000 },
});
call('an-stream', {
  provider: 'anthropic', api: 'messages', stream: true, model: 'claude-haiku-4-5', responseModel: 'claude-haiku-4-5-20251001',
  usage: { input: 800, cacheRead: 2000, output: 200 },
});

// Gemini: promptTokenCount includes the cached tokens; thoughts are reported apart from
// the candidates (the fake splits usage.output into both).
call('gm-chat', {
  provider: 'google', api: 'gemini', model: 'gemini-2.5-flash', responseModel: 'gemini-2.5-flash',
  usage: { input: 3000, cacheRead: 1000, output: 600, reasoning: 200 },
});
call('gm-long', {
  provider: 'google', api: 'gemini', model: 'gemini-2.5-pro', responseModel: 'gemini-2.5-pro',
  usage: { input: 250000, output: 2000 },
});

module.exports = { CALLS };
