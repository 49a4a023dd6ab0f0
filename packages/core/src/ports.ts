/**
 * Default listening ports of the parts. The metrics ports sit outside 9100-9999, the
 * Prometheus exporter range (fully allocated: 9153 is CoreDNS's, 9464 OpenTelemetry's
 * exporter), and apart from 8443 (HTTPS alternative) and 8053 (BIND's statistics channel),
 * so an edge or DNS host can run Catchment beside the usual exporters. docs/deploy.md
 * lists them with the firewall rules.
 */
export const DEFAULT_PORTS = {
  /** REST API, snapshot distribution, /metrics. */
  api: 8080,
  /** DNS server's /metrics, /healthz, /readyz. */
  dnsHttp: 8453,
  /** Controller's /metrics, /healthz, /readyz. */
  controllerHttp: 8454,
  /** Edge agent's /metrics, /healthz, /readyz, /status. */
  edgeHttp: 8455,
} as const;
