'use strict';
// Runs one instrumentation library's scenario: starts the fake providers, sets the
// library up as an application would, makes its calls (each in a trace of its own,
// under a root span naming the call), exports the spans over OTLP/HTTP and prints one
// JSON report on stdout: per call, its trace id and the oracle's price of the usage the
// fake provider returned.
//
//   node run.cjs --library openllmetry --otlp http://127.0.0.1:4318 [--prices data.json]
//   node run.cjs --library openllmetry --dump      (spans as JSON, no collector)

const { context, trace } = require('@opentelemetry/api');
const { startFakeProviders } = require('./fake-providers.cjs');
const { CALLS } = require('./calls.cjs');
const { LIBRARIES } = require('./libraries.cjs');
const oracle = require('./oracle.cjs');

function args() {
  const out = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = true;
    else out[a.slice(2)] = argv[++i];
  }
  return out;
}

function versionOf(pkg) {
  try {
    return require(`${pkg}/package.json`).version;
  } catch {
    // Packages whose exports hide package.json.
    const path = require('node:path');
    const fs = require('node:fs');
    const p = path.join(__dirname, 'node_modules', pkg, 'package.json');
    return JSON.parse(fs.readFileSync(p, 'utf8')).version;
  }
}

function exporterFor(opts) {
  if (opts.dump) {
    const { InMemorySpanExporter } = require('@opentelemetry/sdk-trace-base');
    return new InMemorySpanExporter();
  }
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url: `${opts.otlp}/v1/traces` });
}

function dumpSpans(exporter) {
  return exporter.getFinishedSpans().map((s) => ({
    name: s.name,
    scope: s.instrumentationScope.name,
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parent: s.parentSpanContext ? s.parentSpanContext.spanId : undefined,
    attributes: s.attributes,
  }));
}

async function main() {
  const opts = args();
  const lib = LIBRARIES[opts.library];
  if (!lib) throw new Error(`unknown library ${opts.library}; one of ${Object.keys(LIBRARIES).join(', ')}`);
  if (!opts.dump && !opts.otlp) throw new Error('--otlp URL or --dump is required');
  if (opts.prices) oracle.useData(opts.prices);

  const providers = await startFakeProviders();
  const exporter = exporterFor(opts);
  opts.openlitPricing = oracle.openlitPricing(lib.calls.map((spec) => CALLS[spec.split(':').pop()]));
  const telemetry = lib.setup(exporter, opts);
  const clients = require('./clients.cjs');
  // A call is made with the provider SDKs, or with the Vercel AI SDK for the vercel
  // library and for calls listed as "vercel:<id>".
  const entries = lib.calls.map((spec) => {
    const [client, id] = spec.includes(':') ? spec.split(':') : [opts.library === 'vercel' ? 'vercel' : 'sdk', spec];
    return { spec, client, id };
  });
  const made = {};
  if (entries.some((e) => e.client === 'sdk')) made.sdk = clients.sdkClients(providers, lib.anthropicModule);
  if (entries.some((e) => e.client === 'vercel')) made.vercel = clients.vercelClients(providers);
  const tracer = trace.getTracer('procode.llm-test');


  const report = { library: opts.library, versions: {}, prices: oracle.dataSource(), calls: [] };
  for (const p of lib.packages) report.versions[p] = versionOf(p);

  for (const { spec, client, id } of entries) {
    const call = CALLS[id];
    const root = tracer.startSpan(`test call ${id}`, { attributes: { 'test.call.id': id, 'test.call.client': client, 'test.library': opts.library } });
    const started = new Date();
    const entry = { spec, id, client, traceId: root.spanContext().traceId, provider: call.provider, api: call.api, stream: !!call.stream };
    const before = providers.answered.length;
    try {
      await context.with(trace.setSpan(context.active(), root), () =>
        client === 'vercel' ? clients.vercelCall(made.vercel, call) : clients.sdkCall(made.sdk, call));
    } catch (err) {
      entry.error = String(err && err.stack ? err.stack : err);
    }
    root.end();
    const answers = providers.answered.slice(before);
    if (answers.length !== 1) {
      entry.error = (entry.error ? entry.error + '; ' : '') + `${answers.length} requests reached the fake provider`;
    } else {
      entry.serviceTier = call.serviceTier;
      entry.expected = oracle.price(answers[0], call, started);
    }
    report.calls.push(entry);
  }
  await telemetry.flush();
  if (opts.dump) report.spans = dumpSpans(exporter);
  await telemetry.shutdown();
  await providers.close();
  process.stdout.write(JSON.stringify(report, null, opts.dump ? 2 : 0) + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
