import { DEFAULT_SETTINGS } from '@catchment/core';
import type { SafetyEdge, SafetyWorld } from '../src/index.ts';

export const NOW = new Date('2026-11-22T02:00:00Z');

export function edge(
  name: string,
  capacityRps: number,
  loadRps: number | null,
  extra: Partial<SafetyEdge> = {},
): SafetyEdge {
  return {
    name,
    capacityRps,
    loadRps,
    state: 'active',
    override: 'none',
    threshold: 0.85,
    dsrAddress: `198.18.0.${name.length}`,
    ...extra,
  };
}

/** The demo topology: fra, iad, sin announce the supernet; lhr, gru, syd own a /24 each. */
export function demoWorld(extra: Partial<SafetyWorld> = {}): SafetyWorld {
  const edges = [
    edge('fra', 100_000, 40_000),
    edge('iad', 120_000, 50_000),
    edge('sin', 80_000, 30_000),
    edge('lhr', 30_000, 28_000),
    edge('gru', 20_000, 8_000),
    edge('syd', 20_000, 8_000),
  ];
  const unicast = edges.map((e, i) => ({
    cidr: `198.18.${i + 1}.0/24`,
    kind: 'unicast' as const,
    edge: e.name,
    announcers: [e.name],
    supernet: '198.18.0.0/20',
  }));
  return {
    now: NOW,
    settings: { ...DEFAULT_SETTINGS },
    edges,
    actions: [],
    prefixes: [
      { cidr: '198.18.0.0/20', kind: 'anycast', edge: null, announcers: ['fra', 'iad', 'sin'], supernet: null },
      ...unicast,
    ],
    services: [{ name: 'www.example.net', edges: edges.map((e) => e.name), anycast: true }],
    routeChanges: [],
    ...extra,
  };
}
