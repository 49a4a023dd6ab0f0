import type { SnapshotBody, SnapshotEdge } from '@catchment/core';
import { DEFAULT_SETTINGS } from '@catchment/core';
import { snapshotEdge } from './snapshots.ts';
import { GEOIP_TESTDATA } from './testdata.ts';

/** The demo configuration (config/demo.yaml) as a compiled snapshot body, for tests. */
export const TESTDATA = GEOIP_TESTDATA;
export const CITY_DB = `${TESTDATA}/GeoIP2-City-Test.mmdb`;
export const ASN_DB = `${TESTDATA}/GeoLite2-ASN-Test.mmdb`;

function edge(
  name: string,
  lat: number,
  lon: number,
  country: string,
  continent: string,
  capacityRps: number,
  dsr: string,
): SnapshotEdge {
  // The core schema's literal unions type as never under TypeBox 1.x: hence the cast here.
  return snapshotEdge(name, { lat, lon, country, continent: continent as never, capacityRps, dsrAddress: dsr });
}

export function demoBody(): SnapshotBody {
  const records = [
    { name: 'ns1.example.net', type: 'A', ttl: 3600, value: '192.0.2.53' },
    { name: 'ns1.example.net', type: 'AAAA', ttl: 3600, value: '2001:db8::53' },
    { name: 'ns2.example.net', type: 'A', ttl: 3600, value: '203.0.113.53' },
    { name: 'ns2.example.net', type: 'AAAA', ttl: 3600, value: '2001:db8:ffff::53' },
    { name: 'example.net', type: 'MX', ttl: 3600, value: '10 mail.example.net.' },
    { name: 'mail.example.net', type: 'A', ttl: 3600, value: '192.0.2.25' },
    { name: 'example.net', type: 'TXT', ttl: 3600, value: '"v=spf1 mx -all"' },
    { name: 'example.net', type: 'CAA', ttl: 3600, value: '0 issue "letsencrypt.org"' },
    { name: '_https._tcp.example.net', type: 'SRV', ttl: 3600, value: '10 5 443 www.example.net.' },
    { name: 'docs.example.net', type: 'CNAME', ttl: 3600, value: 'www.example.net.' },
  ];
  const edges = [
    edge('fra', 50.03, 8.57, 'DE', 'EU', 100000, '198.19.0.11'),
    edge('iad', 38.95, -77.45, 'US', 'NA', 120000, '198.19.0.12'),
    edge('sin', 1.36, 103.99, 'SG', 'AS', 80000, '198.19.0.13'),
    edge('lhr', 51.47, -0.45, 'GB', 'EU', 30000, '198.19.0.14'),
    edge('gru', -23.43, -46.47, 'BR', 'SA', 20000, '198.19.0.15'),
    edge('syd', -33.94, 151.18, 'AU', 'OC', 20000, '198.19.0.16'),
  ];
  const n = (i: number) => ({ v4: [`198.18.${i}.10`], v6: [`2001:db8:10${i}::10`] });
  return {
    zones: [
      {
        name: 'example.net',
        ttl: 3600,
        soa: {
          mname: 'ns1.example.net',
          rname: 'hostmaster.example.net',
          serial: 2026112201,
          refresh: 3600,
          retry: 600,
          expire: 1209600,
          minimum: 60,
        },
        ns: ['ns1.example.net', 'ns2.example.net'],
        records: records as SnapshotBody['zones'][number]['records'],
      },
    ],
    edges,
    services: [
      {
        name: 'www.example.net',
        zone: 'example.net',
        ttl: 30,
        policy: 'default',
        ports: [80, 443],
        anycast: { v4: '198.18.0.1', v6: '2001:db8:100::1' },
        addresses: [
          { edge: 'fra', ...n(1) },
          { edge: 'iad', ...n(2) },
          { edge: 'sin', ...n(3) },
          { edge: 'lhr', ...n(4) },
          { edge: 'gru', ...n(5) },
          { edge: 'syd', ...n(6) },
        ],
      },
    ],
    policies: [
      {
        name: 'default',
        rules: [
          { match: { country: 'CN' }, edges: ['sin'] },
          { match: { continent: 'OC' as never }, edges: ['syd', 'sin'] },
        ],
      },
    ],
    prefixes: [],
    announcements: [],
    transits: [],
    dsr: [],
    automation: { frozen: false, frozenEdges: [] },
    settings: { ...DEFAULT_SETTINGS },
  };
}
