import { parseExposition, sampleKind } from './exposition.ts';
import { CounterRate } from './rate.ts';
import { matches, parseSelector, type Selector } from './selector.ts';
import type { LoadSource } from './source.ts';

export interface PrometheusLoadOptions {
  /** The exporter's metrics URL (http or https), e.g. http://127.0.0.1:9113/metrics. */
  url: string;
  /** Metric name with optional label matchers; the matching series are summed. */
  selector: string;
  /**
   * counter: the rate of the sum's increase (per series, resets handled); gauge: the sum as
   * it is (already requests/s); auto (default): what the exposition's `# TYPE` says.
   */
  type?: 'auto' | 'counter' | 'gauge';
  timeoutMs?: number;
  /** Clock in ms for the rate (tests); default performance.now(). */
  now?: () => number;
}

/** Load from a local exporter's Prometheus text exposition (nginx, haproxy, envoy, node...). */
export class PrometheusLoadSource implements LoadSource {
  readonly kind = 'prometheus';
  readonly description: string;
  readonly #o: PrometheusLoadOptions;
  readonly #selector: Selector;
  readonly #rate = new CounterRate();

  constructor(opts: PrometheusLoadOptions) {
    const url = new URL(opts.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`${opts.url}: http or https URL expected`);
    this.#o = opts;
    this.#selector = parseSelector(opts.selector);
    this.description = `${opts.url} ${this.#selector.text}`;
  }

  async read(): Promise<number | undefined> {
    const res = await fetch(this.#o.url, {
      headers: { accept: 'text/plain;version=0.0.4;q=1, */*;q=0.1' },
      signal: AbortSignal.timeout(this.#o.timeoutMs ?? 2000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`exporter answered HTTP ${res.status}`);
    }
    const at = (this.#o.now ?? performance.now.bind(performance))();
    const { types, samples } = parseExposition(await res.text());
    const selected = samples.filter((s) => matches(this.#selector, s));
    if (selected.length === 0) {
      // The next sample that has the series again starts over: no rate across the gap.
      this.#rate.reset();
      throw new Error(`no series matches ${this.#selector.text}`);
    }
    const type = this.#o.type ?? 'auto';
    const kind = type === 'auto' ? sampleKind(types, this.#selector.metric) : type;
    if (!kind)
      throw new Error(
        `the exposition does not type ${this.#selector.metric} as a counter or gauge: set the type (counter or gauge)`,
      );
    const bad = selected.find((s) => !Number.isFinite(s.value) || s.value < 0);
    if (bad) throw new Error(`${bad.name}${JSON.stringify(bad.labels)} is ${bad.value}, not a load`);
    if (kind === 'gauge') return selected.reduce((sum, s) => sum + s.value, 0);
    const series = new Map<string, number>();
    for (const s of selected) {
      const key = JSON.stringify(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      series.set(key, (series.get(key) ?? 0) + s.value);
    }
    return this.#rate.observe(series, at);
  }
}
