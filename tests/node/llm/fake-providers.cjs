'use strict';
// Fake OpenAI, Anthropic and Gemini APIs on 127.0.0.1 that answer as the hosted ones do
// (shapes checked against the openai, @anthropic-ai/sdk and @ai-sdk/google type
// definitions in node_modules). Each request names the test call it belongs to with a
// marker "call:<id>" in its prompt; the server answers with that call's usage from
// calls.cjs and records the response it sent (for a stream, the usage the events add up
// to, in the shape of the non-streamed response) so that the oracle can price exactly
// what the provider returned.

const http = require('node:http');
const { CALLS } = require('./calls.cjs');

const MARKER = /call:([a-z0-9-]+)/;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sse(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

const created = 1767225600; // 2026-01-01T00:00:00Z

// ---- OpenAI -------------------------------------------------------------------------

function openaiChatUsage(u) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cacheRead || 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning || 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function openaiChat(call, body) {
  return {
    id: `chatcmpl-${call.id}`,
    object: 'chat.completion',
    created,
    model: call.responseModel,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: `answer to ${call.id}`, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: openaiChatUsage(call.usage),
    service_tier: call.serviceTier || (body.service_tier === 'auto' || !body.service_tier ? 'default' : body.service_tier),
    system_fingerprint: 'fp_fake0001',
  };
}

function streamOpenAIChat(res, call, body, full) {
  sse(res);
  const withUsage = body.stream_options && body.stream_options.include_usage;
  const base = {
    id: full.id,
    object: 'chat.completion.chunk',
    created,
    model: full.model,
    service_tier: full.service_tier,
    system_fingerprint: full.system_fingerprint,
  };
  const chunk = (choices, usage) => {
    const c = { ...base, choices };
    if (withUsage) c.usage = usage;
    res.write(`data: ${JSON.stringify(c)}\n\n`);
  };
  chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], null);
  for (const word of full.choices[0].message.content.split(' ')) {
    chunk([{ index: 0, delta: { content: word + ' ' }, logprobs: null, finish_reason: null }], null);
  }
  chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], null);
  if (withUsage) {
    res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: full.usage })}\n\n`);
  }
  res.write('data: [DONE]\n\n');
  res.end();
}

function float32Base64(values) {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

function openaiEmbeddings(call, body) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const vector = [0.1, -0.2, 0.3, 0.05];
  return {
    object: 'list',
    data: inputs.map((_, index) => ({
      object: 'embedding',
      index,
      embedding: body.encoding_format === 'base64' ? float32Base64(vector) : vector,
    })),
    model: call.responseModel,
    usage: { prompt_tokens: call.usage.input, total_tokens: call.usage.input },
  };
}

function openaiResponse(call, body) {
  const u = call.usage;
  return {
    id: `resp_${call.id.replace(/-/g, '')}`,
    object: 'response',
    created_at: created,
    status: 'completed',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: call.responseModel,
    output: [
      {
        type: 'message',
        id: `msg_${call.id.replace(/-/g, '')}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: `answer to ${call.id}`, annotations: [], logprobs: [] }],
      },
    ],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: call.serviceTier || 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: {
      input_tokens: u.input,
      input_tokens_details: { cached_tokens: u.cacheRead || 0 },
      output_tokens: u.output,
      output_tokens_details: { reasoning_tokens: u.reasoning || 0 },
      total_tokens: u.input + u.output,
    },
    user: null,
    metadata: {},
  };
}

function streamOpenAIResponse(res, full) {
  sse(res);
  let seq = 0;
  const ev = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  const inProgress = { ...full, status: 'in_progress', output: [], usage: null };
  ev('response.created', { response: inProgress });
  ev('response.in_progress', { response: inProgress });
  const item = full.output[0];
  const text = item.content[0].text;
  ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
  ev('response.content_part.added', {
    item_id: item.id, output_index: 0, content_index: 0,
    part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
  });
  ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: text, logprobs: [] });
  ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] });
  ev('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: item.content[0] });
  ev('response.output_item.done', { output_index: 0, item });
  ev('response.completed', { response: full });
  res.end();
}

// ---- Anthropic ----------------------------------------------------------------------

function anthropicUsage(u) {
  const w5 = u.cacheWrite5m || 0;
  const w1 = u.cacheWrite1h || 0;
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: w5 + w1,
    cache_read_input_tokens: u.cacheRead || 0,
    cache_creation: { ephemeral_5m_input_tokens: w5, ephemeral_1h_input_tokens: w1 },
    output_tokens: u.output,
    service_tier: u.serviceTier || 'standard',
    server_tool_use: null,
    inference_geo: 'global',
  };
}

function anthropicMessage(call) {
  return {
    id: `msg_${call.id.replace(/-/g, '')}`,
    type: 'message',
    role: 'assistant',
    model: call.responseModel,
    content: [{ type: 'text', text: `answer to ${call.id}` }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage({ ...call.usage, serviceTier: call.serviceTier }),
  };
}

function streamAnthropic(res, full) {
  sse(res);
  const ev = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  const u = full.usage;
  ev('message_start', {
    message: { ...full, content: [], stop_reason: null, stop_sequence: null, usage: { ...u, output_tokens: 1 } },
  });
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  ev('ping', {});
  ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: full.content[0].text } });
  ev('content_block_stop', { index: 0 });
  ev('message_delta', {
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: {
      input_tokens: u.input_tokens,
      cache_creation_input_tokens: u.cache_creation_input_tokens,
      cache_read_input_tokens: u.cache_read_input_tokens,
      output_tokens: u.output_tokens,
      server_tool_use: null,
    },
  });
  ev('message_stop', {});
  res.end();
}

// ---- Gemini -------------------------------------------------------------------------

function geminiResponse(call) {
  const u = call.usage;
  // Gemini's promptTokenCount includes the cached tokens; candidatesTokenCount leaves
  // out the thoughts, which thoughtsTokenCount reports.
  const usageMetadata = {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output - (u.reasoning || 0),
    totalTokenCount: u.input + u.output,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }],
  };
  if (u.cacheRead) usageMetadata.cachedContentTokenCount = u.cacheRead;
  if (u.reasoning) usageMetadata.thoughtsTokenCount = u.reasoning;
  return {
    candidates: [
      { content: { parts: [{ text: `answer to ${call.id}` }], role: 'model' }, finishReason: 'STOP', index: 0 },
    ],
    usageMetadata,
    modelVersion: call.responseModel,
    responseId: `gm${call.id.replace(/-/g, '')}`,
  };
}

// ---- server -------------------------------------------------------------------------

function findCall(raw) {
  const m = MARKER.exec(raw);
  if (!m) return undefined;
  return CALLS[m[1]];
}

function route(provider, req, raw, res, answered) {
  const call = findCall(raw);
  if (!call) {
    json(res, 400, { error: { message: 'no call marker in the request', type: 'invalid_request_error' } });
    return;
  }
  const body = raw ? JSON.parse(raw) : {};
  const url = req.url;
  let full;
  let flavor;
  if (provider === 'openai') {
    if (url.endsWith('/chat/completions')) {
      full = openaiChat(call, body);
      flavor = 'chat';
      if (body.stream) streamOpenAIChat(res, call, body, full);
      else json(res, 200, full);
    } else if (url.endsWith('/embeddings')) {
      full = openaiEmbeddings(call, body);
      flavor = 'embeddings';
      json(res, 200, full);
    } else if (url.endsWith('/responses')) {
      full = openaiResponse(call, body);
      flavor = 'responses';
      if (body.stream) streamOpenAIResponse(res, full);
      else json(res, 200, full);
    }
  } else if (provider === 'anthropic') {
    if (url.startsWith('/v1/messages')) {
      full = anthropicMessage(call);
      flavor = 'default';
      if (body.stream) streamAnthropic(res, full);
      else json(res, 200, full);
    }
  } else if (provider === 'google') {
    if (url.includes(':streamGenerateContent')) {
      full = geminiResponse(call);
      flavor = 'default';
      sse(res);
      res.write(`data: ${JSON.stringify({ ...full, usageMetadata: undefined, candidates: [{ ...full.candidates[0], finishReason: undefined }] })}\n\n`);
      res.write(`data: ${JSON.stringify(full)}\n\n`);
      res.end();
    } else if (url.includes(':generateContent')) {
      full = geminiResponse(call);
      flavor = 'default';
      json(res, 200, full);
    }
  }
  if (!full) {
    json(res, 404, { error: { message: `fake ${provider}: no route ${req.method} ${url}` } });
    return;
  }
  answered.push({ id: call.id, provider, flavor, stream: !!body.stream, response: full });
}

function serve(provider, answered) {
  const server = http.createServer(async (req, res) => {
    try {
      const raw = await readBody(req);
      route(provider, req, raw, res, answered);
    } catch (err) {
      json(res, 500, { error: { message: String(err && err.stack) } });
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// startFakeProviders starts the three servers; answered lists every response sent.
async function startFakeProviders() {
  const answered = [];
  const [openai, anthropic, google] = await Promise.all([
    serve('openai', answered),
    serve('anthropic', answered),
    serve('google', answered),
  ]);
  const base = (s) => `http://127.0.0.1:${s.address().port}`;
  return {
    answered,
    openaiURL: `${base(openai)}/v1`,
    anthropicURL: base(anthropic),
    googleURL: `${base(google)}/v1beta`,
    close: () => Promise.all([openai, anthropic, google].map((s) => new Promise((r) => s.close(r)))),
  };
}

module.exports = { startFakeProviders };
