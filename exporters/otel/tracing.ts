import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resources, tracing } from '@opentelemetry/sdk-node';
import { HttpClientSpans } from './http-client-spans.js';

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP base endpoint, e.g. http://127.0.0.1:4318; falls back to OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpEndpoint?: string;
  version: string;
}

/**
 * The process's tracer provider. Spans always get real ids (exemplars and run records need them).
 * With an OTLP endpoint they are recorded and exported, and every SDK HTTP call inside a run
 * becomes a client span. Without one nothing would read them, so they are not recorded (a
 * recorded span costs its attributes, times and an allocation per phase on every sample). Either
 * way each SDK call carries `traceparent`, so a target that honours W3C trace context (the local
 * runtime does) continues the probe's trace.
 */
export class Tracing {
  readonly tracer: Tracer;
  readonly endpoint?: string;
  readonly provider: tracing.BasicTracerProvider;
  private static httpSpans?: HttpClientSpans;

  constructor(opts: TracingOptions) {
    const endpoint = opts.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    this.endpoint = endpoint;
    const spanProcessors: tracing.SpanProcessor[] = [];
    if (endpoint) {
      const url = endpoint.replace(/\/+$/, '') + '/v1/traces';
      spanProcessors.push(
        new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 }),
      );
    }
    this.provider = new tracing.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': opts.serviceName, 'service.version': opts.version }),
      spanProcessors,
      sampler: endpoint ? new tracing.AlwaysOnSampler() : new tracing.AlwaysOffSampler(),
    });
    // Globals are process-wide by design of the OTel API: install them once.
    this.tracer = this.provider.getTracer('e2b-bench', opts.version);
    if (!Tracing.httpSpans) {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      Tracing.httpSpans = new HttpClientSpans(this.tracer);
      Tracing.httpSpans.enable();
    }
    Tracing.httpSpans.setTracer(this.tracer);
    trace.disable();
    trace.setGlobalTracerProvider(this.provider);
  }

  async flush(): Promise<void> {
    await this.provider.forceFlush().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => undefined);
  }
}
