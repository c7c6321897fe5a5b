import type { ExporterPlugins } from './exporter.js';

/** The production wiring of the exporter's extension points. */
export function defaultPlugins(_log?: (line: string) => void): ExporterPlugins {
  return {};
}
