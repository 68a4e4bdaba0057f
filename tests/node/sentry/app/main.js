'use strict';
// Captures the same Error twice: with @sentry/node (the event it would send, taken at
// its transport) and with the OpenTelemetry JS SDK (span.recordException, the span
// taken from an in-memory exporter). Prints both as one JSON object on stdout.
const Sentry = require('@sentry/node');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { parseOrder } = require('./lib/orders');

const envelopes = [];
Sentry.init({
  dsn: 'https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1',
  defaultIntegrations: false,
  integrations: [Sentry.linkedErrorsIntegration(), Sentry.nodeContextIntegration ? Sentry.contextLinesIntegration() : undefined].filter(Boolean),
  transport: () => ({
    send: async (env) => { envelopes.push(env); return {}; },
    flush: async () => true,
  }),
});

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('reference');

async function load(raw) {
  await Promise.resolve();
  return parseOrder(raw);
}

async function handle() {
  const span = tracer.startSpan('handle');
  try {
    await Promise.all([load({})]);
  } catch (err) {
    span.recordException(err);
    Sentry.captureException(err);
  } finally {
    span.end();
  }
}

handle().then(async () => {
  await Sentry.flush(2000);
  const event = envelopes.flatMap((env) => env[1]).find(([hdr]) => hdr.type === 'event')[1];
  const ev = exporter.getFinishedSpans()[0].events.find((e) => e.name === 'exception');
  process.stdout.write(JSON.stringify({ sentry: event, otel: ev.attributes, argv1: process.argv[1] }));
});
