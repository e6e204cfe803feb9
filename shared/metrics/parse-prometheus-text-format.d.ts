// Types of the test-only Prometheus text parser (the package ships none), as its README shows
// its output (prom2json's shape): values are strings, histograms carry cumulative buckets by `le`.
declare module 'parse-prometheus-text-format' {
  export interface ParsedSample {
    labels?: Record<string, string>;
    value?: string;
    /** Histograms: cumulative count by upper bound (`le`), without `+Inf`. */
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface ParsedFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: ParsedSample[];
  }
  // biome-ignore lint/style/noDefaultExport: the package's one export is its default.
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
