/** Request bodies shared by the tests: a small world like config/demo.yaml. */
export const edge = (name: string, rps: number, lat = 50, lon = 8, country = 'DE', continent = 'EU') => ({
  name,
  location: { lat, lon, country, continent },
  capacity: { rps },
});

export const EDGES = [
  { ...edge('fra', 100000), dsrAddress: '198.19.100.11' },
  { ...edge('iad', 120000, 38.9, -77.4, 'US', 'NA'), dsrAddress: '198.19.100.12' },
  { ...edge('sin', 80000, 1.3, 103.9, 'SG', 'AS'), dsrAddress: '198.19.100.13' },
  { ...edge('lhr', 30000, 51.4, -0.4, 'GB', 'EU'), dsrAddress: '198.19.100.14' },
];

export const ZONE = {
  name: 'example.net',
  ttl: 3600,
  soa: {
    mname: 'ns1.example.net.',
    rname: 'hostmaster.example.net.',
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 1209600,
    minimum: 60,
  },
  ns: ['ns1.example.net.', 'ns2.example.net.'],
};

export const SUPERNET = { cidr: '198.18.0.0/20', kind: 'anycast', announcers: ['fra', 'iad', 'sin'] };
export const UNICAST = [
  { cidr: '198.18.1.0/24', kind: 'unicast', edge: 'fra', supernet: '198.18.0.0/20' },
  { cidr: '198.18.2.0/24', kind: 'unicast', edge: 'iad', supernet: '198.18.0.0/20' },
  { cidr: '198.18.3.0/24', kind: 'unicast', edge: 'sin', supernet: '198.18.0.0/20' },
  { cidr: '198.18.4.0/24', kind: 'unicast', edge: 'lhr', supernet: '198.18.0.0/20', communities: ['64500:100'] },
];

export const POLICY = { name: 'default', rules: [{ match: { country: 'CN' }, edges: ['sin'] }] };

export const SERVICE = {
  name: 'www',
  zone: 'example.net',
  ttl: 30,
  policy: 'default',
  anycast: { v4: '198.18.0.1' },
  addresses: {
    fra: { v4: ['198.18.1.10'] },
    iad: { v4: ['198.18.2.10'] },
    sin: { v4: ['198.18.3.10'] },
    lhr: { v4: ['198.18.4.10'] },
  },
};

export const TRANSIT = { name: 'transit-a', asn: 64500, intents: { 'prepend-2x': ['64500:2002'] } };
export const SLO = {
  name: 'lhr-utilisation',
  edge: 'lhr',
  metric: 'utilisation',
  enter: 0.85,
  exit: 0.7,
  window: '5m',
};
export const PLAYBOOK = {
  name: 'shed',
  mode: 'approve',
  trigger: { slo: 'lhr-utilisation' },
  steps: [
    { kind: 'dns-shift', schedule: [10, 25, 50] },
    { kind: 'communities', transit: 'transit-a', intents: ['prepend-2x'] },
  ],
};

/** The whole world through the API, in dependency order. */
export const WORLD: [string, unknown][] = [
  ...EDGES.map((e) => ['/v1/edges', e] as [string, unknown]),
  ['/v1/zones', ZONE],
  ['/v1/prefixes', SUPERNET],
  ...UNICAST.map((p) => ['/v1/prefixes', p] as [string, unknown]),
  ['/v1/policies', POLICY],
  ['/v1/services', SERVICE],
  ['/v1/transits', TRANSIT],
  ['/v1/slos', SLO],
  ['/v1/playbooks', PLAYBOOK],
];
