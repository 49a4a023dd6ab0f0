import type { CounterName } from '../xdp/layout.ts';
import { PrometheusLoadSource } from './prometheus.ts';
import type { LoadSource } from './source.ts';
import { XDP_LOAD_COUNTERS, type XdpLoadCounters, XdpLoadSource } from './xdp.ts';

/**
 * The load source from its one-line spec (CATCHMENT_EDGE_LOAD):
 *   prometheus:<url>#<metric>{<label matchers>}   e.g.
 *     prometheus:http://127.0.0.1:9113/metrics#nginx_http_requests_total
 *     prometheus:http://127.0.0.1:8404/metrics#haproxy_frontend_http_requests_total{proxy="www"}
 *   xdp[:flows|:offered-flows]   the XDP DSR program's new-connection counters
 * Every problem is an error that names the setting and what is expected.
 */
export function parseLoadSpec(
  spec: string,
  opts: {
    type?: string | undefined;
    timeoutMs?: number | undefined;
    /** The XDP applier's counter reader, when the agent runs one. */
    xdpCounters?: (() => Promise<Record<CounterName, bigint> | undefined>) | undefined;
  } = {},
): LoadSource {
  const fail = (msg: string) => new Error(`CATCHMENT_EDGE_LOAD: ${msg}`);
  const colon = spec.indexOf(':');
  const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const rest = colon < 0 ? '' : spec.slice(colon + 1).trim();
  if (kind === 'prometheus') {
    const hash = rest.indexOf('#');
    if (hash < 0)
      throw fail(
        'expected prometheus:<url>#<metric>{labels}, e.g. prometheus:http://127.0.0.1:9113/metrics#nginx_http_requests_total',
      );
    const url = rest.slice(0, hash);
    const selector = rest.slice(hash + 1);
    const type = opts.type ?? 'auto';
    if (type !== 'auto' && type !== 'counter' && type !== 'gauge')
      throw new Error(`CATCHMENT_EDGE_LOAD_TYPE must be auto, counter or gauge, not "${type}"`);
    if (!URL.canParse(url)) throw fail(`"${url}" is not a URL`);
    try {
      return new PrometheusLoadSource({
        url,
        selector,
        type,
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
      });
    } catch (err) {
      throw fail((err as Error).message);
    }
  }
  if (kind === 'xdp') {
    const counters = (rest || 'flows') as XdpLoadCounters;
    if (!Object.hasOwn(XDP_LOAD_COUNTERS, counters))
      throw fail(`xdp counters must be ${Object.keys(XDP_LOAD_COUNTERS).join(' or ')}, not "${rest}"`);
    if (!opts.xdpCounters) throw fail('the xdp source needs the XDP DSR program (set CATCHMENT_EDGE_XDP_IFACE)');
    return new XdpLoadSource({ read: opts.xdpCounters, counters });
  }
  throw fail(`unknown source "${kind}": prometheus:<url>#<metric>{labels} or xdp[:flows|:offered-flows]`);
}
