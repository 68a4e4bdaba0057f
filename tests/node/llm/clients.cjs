'use strict';
// Makes one call of calls.cjs with the real provider clients: the openai and
// @anthropic-ai/sdk packages, or the Vercel AI SDK with its providers. Every prompt
// carries the call's marker, by which the fake providers answer.

function prompt(call) {
  return `call:${call.id} say hello`;
}

async function drain(stream) {
  // eslint-disable-next-line no-unused-vars
  for await (const _ of stream) {
    // read to the end, as an application would
  }
}

function sdkClients(urls, anthropicModule = '@anthropic-ai/sdk') {
  // Required only now, after the instrumentation has been registered.
  const OpenAI = require('openai').default || require('openai');
  const Anthropic = require(anthropicModule).default || require(anthropicModule);
  return {
    openai: new OpenAI({ apiKey: 'sk-test', baseURL: urls.openaiURL, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: 'sk-ant-test', baseURL: urls.anthropicURL, maxRetries: 0 }),
  };
}

async function sdkCall(clients, call) {
  const { openai, anthropic } = clients;
  const messages = [{ role: 'user', content: prompt(call) }];
  switch (call.api) {
    case 'chat': {
      const params = { model: call.model, messages };
      if (call.serviceTier) params.service_tier = call.serviceTier;
      if (call.stream) {
        await drain(await openai.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }));
      } else {
        await openai.chat.completions.create(params);
      }
      return;
    }
    case 'embeddings':
      await openai.embeddings.create({ model: call.model, input: prompt(call) });
      return;
    case 'responses':
      if (call.stream) {
        await drain(await openai.responses.create({ model: call.model, input: prompt(call), stream: true }));
      } else {
        await openai.responses.create({ model: call.model, input: prompt(call) });
      }
      return;
    case 'messages': {
      const params = { model: call.model, max_tokens: 1024, messages };
      if (call.stream) {
        await drain(await anthropic.messages.create({ ...params, stream: true }));
      } else {
        await anthropic.messages.create(params);
      }
      return;
    }
  }
  throw new Error(`no SDK call for ${call.id} (${call.api})`);
}

function vercelClients(urls) {
  const { createOpenAI } = require('@ai-sdk/openai');
  const { createAnthropic } = require('@ai-sdk/anthropic');
  const { createGoogleGenerativeAI } = require('@ai-sdk/google');
  return {
    ai: require('ai'),
    openai: createOpenAI({ apiKey: 'sk-test', baseURL: urls.openaiURL }),
    anthropic: createAnthropic({ apiKey: 'sk-ant-test', baseURL: `${urls.anthropicURL}/v1` }),
    google: createGoogleGenerativeAI({ apiKey: 'gm-test', baseURL: urls.googleURL }),
  };
}

async function vercelCall(clients, call) {
  const { ai, openai, anthropic, google } = clients;
  const telemetry = { isEnabled: true, functionId: call.id };
  if (call.api === 'embeddings') {
    await ai.embed({ model: openai.embedding(call.model), value: prompt(call), experimental_telemetry: telemetry, maxRetries: 0 });
    return;
  }
  let model;
  switch (call.api) {
    case 'chat':
      model = openai.chat(call.model);
      break;
    case 'responses':
      model = openai.responses(call.model);
      break;
    case 'messages':
      model = anthropic(call.model);
      break;
    case 'gemini':
      model = google(call.model);
      break;
    default:
      throw new Error(`no Vercel AI SDK call for ${call.id} (${call.api})`);
  }
  const args = { model, prompt: prompt(call), experimental_telemetry: telemetry, maxRetries: 0 };
  if (call.stream) {
    const result = ai.streamText(args);
    await drain(result.textStream);
    await result.usage;
  } else {
    await ai.generateText(args);
  }
}

module.exports = { sdkClients, sdkCall, vercelClients, vercelCall };
