/** OpenTelemetry's standard variables; tracing is on only when a collector endpoint is set. */
export interface TracingSettings {
  /** Where spans are POSTed, e.g. http://collector:4318/v1/traces. */
  tracesUrl: string;
  serviceName: string;
}

interface TracingEnvironment {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

/** The traces endpoint is used as given; the generic endpoint gets the signal's path, `/v1/traces`, as the specification says. */
export function tracingSettings(env: TracingEnvironment): TracingSettings | undefined {
  const serviceName = env.OTEL_SERVICE_NAME ?? 'parley';
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined) return { tracesUrl: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, serviceName };
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) return undefined;
  return { tracesUrl: `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`, serviceName };
}
