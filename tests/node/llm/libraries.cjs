'use strict';
// How each instrumentation library is set up, as its README tells an application to,
// and which of the calls in calls.cjs it makes. Each library runs in a process of its
// own (run.cjs): instrumentations patch modules as they are loaded, and two of them in
// one process would patch each other's clients.

const { trace } = require('@opentelemetry/api');

// tracing sets up the OTel SDK with an OTLP/HTTP exporter to the collector (or to an
// in-memory exporter for --dump) and registers the given instrumentations.
function tracing(exporter, instrumentations) {
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
  const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = require('@opentelemetry/resources');
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME || 'llm-libs' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  provider.register();
  registerInstrumentations({ instrumentations, tracerProvider: provider });
  return { flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}

const OPENAI_CALLS = ['oa-chat', 'oa-chat-stream', 'oa-flex', 'oa-priority', 'oa-embed', 'oa-responses', 'oa-responses-stream'];
const ANTHROPIC_CALLS = ['an-cache', 'an-long', 'an-stream'];

const LIBRARIES = {
  // @anthropic-ai/sdk 1.x traces its own calls (scope com.anthropic.sdk.typescript)
  // with no instrumentation library at all.
  'anthropic-sdk': {
    packages: ['@anthropic-ai/sdk'],
    calls: ANTHROPIC_CALLS,
    setup: (exporter) => tracing(exporter, []),
  },
  otel: {
    packages: ['@opentelemetry/instrumentation-openai', 'openai', '@anthropic-ai/sdk'],
    calls: [...OPENAI_CALLS, ...ANTHROPIC_CALLS],
    setup: (exporter) => {
      const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
      return tracing(exporter, [new OpenAIInstrumentation()]);
    },
  },
  // @traceloop/instrumentation-anthropic 0.27 patches Anthropic.Completions, which
  // @anthropic-ai/sdk 1.x no longer has (loading the SDK throws): this scenario uses the
  // newest 0.x SDK (installed as anthropic-sdk-0), which traces its own calls too, and
  // patches it with the instrumentation's manuallyInstrument (the package name differs).
  openllmetry: {
    packages: ['@traceloop/instrumentation-openai', '@traceloop/instrumentation-anthropic', 'openai', 'anthropic-sdk-0'],
    anthropicModule: 'anthropic-sdk-0',
    calls: [...OPENAI_CALLS, ...ANTHROPIC_CALLS],
    setup: (exporter) => {
      const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai');
      const { AnthropicInstrumentation } = require('@traceloop/instrumentation-anthropic');
      const anthropic = new AnthropicInstrumentation();
      const t = tracing(exporter, [new OpenAIInstrumentation(), anthropic]);
      anthropic.manuallyInstrument(require('anthropic-sdk-0'));
      return t;
    },
  },
  openinference: {
    packages: ['@arizeai/openinference-instrumentation-openai', '@arizeai/openinference-instrumentation-anthropic', 'openai', '@anthropic-ai/sdk'],
    calls: [...OPENAI_CALLS, ...ANTHROPIC_CALLS],
    setup: (exporter) => {
      const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
      const { AnthropicInstrumentation } = require('@arizeai/openinference-instrumentation-anthropic');
      return tracing(exporter, [new OpenAIInstrumentation(), new AnthropicInstrumentation()]);
    },
  },
  // OpenLIT sets up its own SDK and exporter (openlit.init, as its README shows) and
  // prices calls itself from a pricing file, which it fetches from GitHub unless given
  // one: the scenario gives it the list prices of the models it calls (from the price
  // data, see openlitPricing in run.cjs), without long-context tiers, which OpenLIT's
  // format cannot express.
  openlit: {
    packages: ['openlit', 'openai', '@anthropic-ai/sdk'],
    calls: [...OPENAI_CALLS, ...ANTHROPIC_CALLS],
    setup: (exporter, opts) => {
      if (!opts.otlp) throw new Error('openlit exports with its own exporter: use --otlp');
      const openlit = require('openlit').default || require('openlit');
      openlit.init({
        applicationName: process.env.OTEL_SERVICE_NAME || 'llm-libs',
        otlpEndpoint: opts.otlp,
        disableBatch: true,
        disableMetrics: true,
        disableEvents: true,
        pricingJson: opts.openlitPricing,
      });
      const provider = () => trace.getTracerProvider().getDelegate();
      return { flush: () => provider().forceFlush(), shutdown: () => provider().shutdown() };
    },
  },
  // Logfire JS: the logfire package's span processing (its PendingSpanProcessor, which
  // writes a pending span, logfire.span_type = pending_span, at the start of every
  // span, and its ULID trace ids), wired as @pydantic/logfire-node wires them
  // (configure(): the exporter's processor and a PendingSpanProcessor around it), with
  // the OpenAI instrumentation that logfire-node's automatic instrumentations include
  // (installing @pydantic/logfire-node would add its 60 other instrumentations, 170 MB);
  // and the Vercel AI SDK.
  logfire: {
    packages: ['logfire', '@opentelemetry/instrumentation-openai', 'openai', '@anthropic-ai/sdk', 'ai', '@ai-sdk/openai', '@ai-sdk/anthropic'],
    calls: ['oa-chat', 'oa-chat-stream', 'oa-embed', 'an-cache', 'vercel:oa-responses', 'vercel:an-stream', 'vercel:oa-embed'],
    setup: (exporter) => {
      const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
      const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
      const { resourceFromAttributes } = require('@opentelemetry/resources');
      const { registerInstrumentations } = require('@opentelemetry/instrumentation');
      const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
      const { PendingSpanProcessor, ULIDGenerator } = require('logfire');
      const exporting = new SimpleSpanProcessor(exporter);
      const provider = new NodeTracerProvider({
        resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME || 'llm-libs', 'telemetry.sdk.name': 'logfire' }),
        idGenerator: new ULIDGenerator(),
        spanProcessors: [exporting, new PendingSpanProcessor(exporting)],
      });
      provider.register();
      registerInstrumentations({ instrumentations: [new OpenAIInstrumentation()], tracerProvider: provider });
      return { flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
    },
  },
  vercel: {
    packages: ['ai', '@ai-sdk/openai', '@ai-sdk/anthropic', '@ai-sdk/google'],
    calls: ['oa-chat', 'oa-chat-stream', 'oa-embed', 'oa-responses', 'oa-responses-stream', 'an-cache', 'an-long', 'an-stream', 'gm-chat', 'gm-long'],
    setup: (exporter) => tracing(exporter, []),
  },
};

module.exports = { LIBRARIES, tracing };
