import {
  context as otelContext,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { PhaseRunner } from '../driver/types.js';

const propagator = new W3CTraceContextPropagator();

const headerGetter = {
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => carrier[key.toLowerCase()],
  keys: (carrier: Record<string, string | string[] | undefined>) => Object.keys(carrier),
};

/** The caller's W3C trace context (`traceparent` / `tracestate`), or an empty root. */
export function extractContext(headers: Record<string, string | string[] | undefined>): Context {
  return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** Marks a span failed with the error; returns the error for the caller to rethrow. */
function failed(span: Span, err: unknown): unknown {
  span.recordException(err as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
  return err;
}

export interface PhaseObserver {
  (phase: string, seconds: number, ok: boolean): void;
}

/**
 * Server-side spans: one per request operation, one child per phase. Uses the given provider or
 * tracer; without one, the global provider (a no-op unless the embedding process registered one).
 */
export class RuntimeTracing {
  readonly tracer: Tracer;
  constructor(
    source: TracerProvider | Tracer | undefined,
    private readonly observe: PhaseObserver = () => undefined,
  ) {
    if (source && 'startSpan' in source) this.tracer = source;
    else this.tracer = (source ?? trace.getTracerProvider()).getTracer('e2b-bench-local-runtime');
  }

  /** Run `fn` inside a span continuing `parent`; `fn` gets a phase runner for child spans. */
  async operation<T>(
    name: string,
    parent: Context,
    attributes: Attributes,
    fn: (phase: PhaseRunner, ctx: Context) => Promise<T>,
  ): Promise<T> {
    const span = this.tracer.startSpan(name, { attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    try {
      const result = await fn(this.phases(ctx), ctx);
      span.setStatus({ code: SpanStatusCode.OK });
      return result;
    } catch (err) {
      throw failed(span, err);
    } finally {
      span.end();
    }
  }

  /** A phase runner whose spans are children of `ctx` and whose durations feed the phase histogram. */
  phases(ctx: Context): PhaseRunner {
    const run: PhaseRunner = async (name, fn) => {
      const span = this.tracer.startSpan(`e2blocal.${name}`, { attributes: { 'e2blocal.phase': name } }, ctx);
      const started = performance.now();
      let ok = false;
      try {
        const r = await otelContext.with(trace.setSpan(ctx, span), fn);
        ok = true;
        return r;
      } catch (err) {
        throw failed(span, err);
      } finally {
        span.end();
        this.observe(name, (performance.now() - started) / 1000, ok);
      }
    };
    run.record = (name, startMs, endMs, attributes = {}) => {
      const span = this.tracer.startSpan(
        `e2blocal.${name}`,
        { attributes: { ...attributes, 'e2blocal.phase': name }, startTime: startMs },
        ctx,
      );
      span.end(endMs);
      this.observe(name, Math.max(0, endMs - startMs) / 1000, true);
    };
    return run;
  }
}
