import diagnostics from 'node:diagnostics_channel';
import {
  context,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';

/** The parts of undici's request object (Node's fetch) that these channels hand out. */
interface UndiciRequest {
  method: string;
  origin: string;
  path: string;
  addHeader?: (name: string, value: string) => unknown;
  headers?: string | string[];
}

const CHANNELS = ['create', 'headers', 'trailers', 'error'] as const;

/**
 * A client span for every HTTP request Node's fetch makes under a recorded span of ours (the E2B
 * SDK's calls inside a probe run), carrying W3C `traceparent` so that a target which honours it
 * continues the probe's trace. Under a span that is not recorded (no trace exporter configured)
 * the request carries that span's own context instead, marked sampled so that the target still
 * records its side under the trace id our exemplars point to. Requests outside any span get
 * neither span nor header.
 *
 * It listens on undici's diagnostics channels directly rather than through the OpenTelemetry
 * undici instrumentation: that one parses the URL, scans headers and records a duration metric
 * per request, which was most of the exporter's own CPU time per start sample.
 */
export class HttpClientSpans {
  private readonly spans = new WeakMap<object, Span>();
  private readonly handlers = {
    create: (m: unknown) => this.onCreate((m as { request: UndiciRequest }).request),
    headers: (m: unknown) => {
      const { request, response } = m as { request: object; response: { statusCode: number } };
      const span = this.spans.get(request);
      if (!span) return;
      span.setAttribute('http.response.status_code', response.statusCode);
      if (response.statusCode >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
    },
    trailers: (m: unknown) => this.end((m as { request: object }).request),
    error: (m: unknown) => {
      const { request, error } = m as { request: object; error: Error };
      const span = this.spans.get(request);
      if (!span) return;
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      this.end(request);
    },
  };
  private enabled = false;

  constructor(private tracer: Tracer) {}

  setTracer(tracer: Tracer): void {
    this.tracer = tracer;
  }

  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    for (const c of CHANNELS) diagnostics.subscribe(`undici:request:${c}`, this.handlers[c]);
  }

  disable(): void {
    if (!this.enabled) return;
    this.enabled = false;
    for (const c of CHANNELS) diagnostics.unsubscribe(`undici:request:${c}`, this.handlers[c]);
  }

  private onCreate(request: UndiciRequest): void {
    const active = context.active();
    const parent = trace.getSpan(active);
    if (!parent) return;
    if (!parent.isRecording()) {
      const sc = parent.spanContext();
      if (isSpanContextValid(sc))
        this.inject(request, trace.setSpanContext(active, { ...sc, traceFlags: TraceFlags.SAMPLED }));
      return;
    }
    const url = request.origin + request.path;
    const span = this.tracer.startSpan(
      request.method,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': request.method, 'url.full': url.split('?')[0] },
      },
      active,
    );
    this.spans.set(request, span);
    this.inject(request, trace.setSpan(active, span));
  }

  private inject(request: UndiciRequest, ctx: Context): void {
    const carrier: Record<string, string> = {};
    propagation.inject(ctx, carrier);
    for (const [k, v] of Object.entries(carrier)) {
      if (typeof request.addHeader === 'function') request.addHeader(k, v);
      else if (Array.isArray(request.headers)) request.headers.push(k, v);
      else if (typeof request.headers === 'string') request.headers += `${k}: ${v}\r\n`;
    }
  }

  private end(request: object): void {
    const span = this.spans.get(request);
    if (!span) return;
    this.spans.delete(request);
    span.end();
  }
}
