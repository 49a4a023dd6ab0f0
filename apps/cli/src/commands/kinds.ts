import type { Column, Row } from '../output/table.ts';
import { ago } from './common.ts';

/** One kind of `catchment get`: its API list path, the filters it takes and its table. */
export interface KindSpec {
  path: string;
  /** Path of one object (describe), `{}` replaced by the encoded key. */
  one?: string;
  key: string;
  filters: string[];
  columns: Column<Row>[];
  /** The list is not paged (e.g. settings). */
  unpaged?: boolean;
}

const params = (p: Row | undefined) =>
  p
    ? Object.entries(p)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : v}`)
        .join(' ')
    : '';

export const KINDS: Record<string, KindSpec> = {
  edges: {
    path: '/v1/edges',
    one: '/v1/edges/{}',
    key: 'name',
    filters: ['state', 'override', 'continent'],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'STATE', get: (r) => r.state },
      { header: 'OVERRIDE', get: (r) => r.override },
      { header: 'COUNTRY', get: (r) => r.location?.country },
      { header: 'REGION', get: (r) => r.location?.region },
      { header: 'RPS', get: (r) => r.capacity?.rps, right: true },
      { header: 'DESCRIPTION', get: (r) => r.description },
    ],
  },
  prefixes: {
    path: '/v1/prefixes',
    one: '/v1/prefixes/{}',
    key: 'cidr',
    filters: ['kind', 'edge'],
    columns: [
      { header: 'CIDR', get: (r) => r.cidr },
      { header: 'KIND', get: (r) => r.kind },
      { header: 'EDGE', get: (r) => (r.kind === 'anycast' ? r.announcers : r.edge) },
      { header: 'SUPERNET', get: (r) => r.supernet },
      { header: 'COMMUNITIES', get: (r) => r.communities },
    ],
  },
  services: {
    path: '/v1/services',
    one: '/v1/services/{}',
    key: 'name',
    filters: ['zone'],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'ZONE', get: (r) => r.zone },
      { header: 'TTL', get: (r) => r.ttl, right: true },
      { header: 'POLICY', get: (r) => r.policy },
      { header: 'EDGES', get: (r) => Object.keys(r.addresses ?? {}) },
      { header: 'ANYCAST', get: (r) => [r.anycast?.v4, r.anycast?.v6].filter(Boolean) },
    ],
  },
  zones: {
    path: '/v1/zones',
    one: '/v1/zones/{}',
    key: 'name',
    filters: [],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'TTL', get: (r) => r.ttl, right: true },
      { header: 'SERIAL', get: (r) => r.soa?.serial },
      { header: 'NS', get: (r) => r.ns },
      { header: 'RECORDS', get: (r) => r.records?.length ?? 0, right: true },
    ],
  },
  policies: {
    path: '/v1/policies',
    one: '/v1/policies/{}',
    key: 'name',
    filters: [],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'RULES', get: (r) => r.rules?.length ?? 0, right: true },
      {
        header: 'FIRST RULE',
        get: (r) => (r.rules?.[0] ? `${params(r.rules[0].match)} -> ${r.rules[0].edges.join(',')}` : '-'),
      },
      { header: 'DESCRIPTION', get: (r) => r.description },
    ],
  },
  transits: {
    path: '/v1/transits',
    one: '/v1/transits/{}',
    key: 'name',
    filters: [],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'ASN', get: (r) => r.asn, right: true },
      { header: 'INTENTS', get: (r) => Object.keys(r.intents ?? {}) },
    ],
  },
  slos: {
    path: '/v1/slos',
    one: '/v1/slos/{}',
    key: 'name',
    filters: ['edge', 'metric'],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'EDGE', get: (r) => r.edge },
      { header: 'METRIC', get: (r) => r.metric },
      { header: 'ENTER', get: (r) => r.enter, right: true },
      { header: 'EXIT', get: (r) => r.exit, right: true },
      { header: 'WINDOW', get: (r) => r.window },
    ],
  },
  playbooks: {
    path: '/v1/playbooks',
    one: '/v1/playbooks/{}',
    key: 'name',
    filters: [],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'MODE', get: (r) => r.mode },
      {
        header: 'TRIGGER',
        get: (r) => (r.trigger?.slo ? `slo ${r.trigger.slo}` : `alert ${params(r.trigger?.alert)}`),
      },
      { header: 'STEPS', get: (r) => (r.steps ?? []).map((s: Row) => s.kind) },
      { header: 'COOLDOWN', get: (r) => r.cooldown },
    ],
  },
  runs: {
    path: '/v1/runs',
    one: '/v1/runs/{}',
    key: 'id',
    filters: ['state', 'playbook', 'edge'],
    columns: [
      { header: 'ID', get: (r) => r.id, right: true },
      { header: 'PLAYBOOK', get: (r) => r.playbook },
      { header: 'EDGE', get: (r) => r.edge },
      { header: 'STATE', get: (r) => r.state },
      { header: 'STEP', get: (r) => r.currentStep, right: true },
      { header: 'MODE', get: (r) => r.mode },
      { header: 'STARTED', get: (r) => ago(r.startedAt) },
      { header: 'ENDED', get: (r) => ago(r.endedAt) },
    ],
  },
  actions: {
    path: '/v1/actions',
    one: '/v1/actions/{}',
    key: 'id',
    filters: ['active', 'kind', 'edge', 'source'],
    columns: [
      { header: 'ID', get: (r) => r.id, right: true },
      { header: 'KIND', get: (r) => r.kind },
      { header: 'EDGE', get: (r) => r.edge ?? (r.kind === 'freeze' ? 'global' : '-') },
      { header: 'PARAMS', get: (r) => params(r.params) },
      { header: 'ACTIVE', get: (r) => (r.active ? 'yes' : 'no') },
      { header: 'EXPIRES', get: (r) => ago(r.expiresAt) },
      { header: 'ACTOR', get: (r) => r.actor },
      { header: 'REASON', get: (r) => r.reason },
    ],
  },
  pins: {
    path: '/v1/pins',
    one: '/v1/actions/{}',
    key: 'id',
    filters: ['active', 'edge'],
    columns: [
      { header: 'ID', get: (r) => r.id, right: true },
      { header: 'CLIENTS', get: (r) => r.params?.cidr ?? r.params?.country },
      { header: 'EDGE', get: (r) => r.edge },
      { header: 'NAME', get: (r) => r.params?.name ?? '*' },
      { header: 'EXPIRES', get: (r) => ago(r.expiresAt) },
      { header: 'ACTOR', get: (r) => r.actor },
      { header: 'REASON', get: (r) => r.reason },
    ],
  },
  consumers: {
    path: '/v1/consumers',
    key: 'name',
    filters: ['kind'],
    columns: [
      { header: 'NAME', get: (r) => r.name },
      { header: 'KIND', get: (r) => r.kind },
      { header: 'VERSION', get: (r) => r.snapshotVersion, right: true },
      { header: 'LAG', get: (r) => r.lag, right: true },
      { header: 'HEALTHY', get: (r) => (r.healthy ? 'yes' : 'no') },
      { header: 'SEEN', get: (r) => ago(r.reportedAt) },
    ],
  },
  tokens: {
    path: '/v1/tokens',
    key: 'id',
    filters: ['role', 'revoked'],
    columns: [
      { header: 'ID', get: (r) => r.id, right: true },
      { header: 'NAME', get: (r) => r.name },
      { header: 'ROLE', get: (r) => r.role },
      { header: 'SCOPE', get: (r) => r.scope },
      { header: 'CREATED', get: (r) => ago(r.createdAt) },
      { header: 'EXPIRES', get: (r) => ago(r.expiresAt) },
      { header: 'REVOKED', get: (r) => ago(r.revokedAt) },
      { header: 'USED', get: (r) => ago(r.lastUsedAt) },
    ],
  },
  audit: {
    path: '/v1/audit',
    key: 'id',
    filters: ['actor', 'action', 'objectType', 'objectId'],
    columns: [
      { header: 'ID', get: (r) => r.id, right: true },
      { header: 'AT', get: (r) => String(r.at).replace('T', ' ').slice(0, 19) },
      { header: 'ACTOR', get: (r) => r.actor },
      { header: 'ACTION', get: (r) => `${r.action}${r.forced ? ' (forced)' : ''}` },
      { header: 'OBJECT', get: (r) => `${r.objectType}/${r.objectId}` },
      { header: 'REASON', get: (r) => r.reason },
    ],
  },
  signals: {
    path: '/v1/signals',
    key: 'id',
    filters: ['status', 'source', 'edge', 'name'],
    columns: [
      { header: 'ID', get: (r) => r.id, right: true },
      { header: 'SOURCE', get: (r) => r.source },
      { header: 'NAME', get: (r) => r.name },
      { header: 'EDGE', get: (r) => r.edge },
      { header: 'STATUS', get: (r) => r.status },
      { header: 'STARTED', get: (r) => ago(r.startsAt) },
    ],
  },
};

/** Singular and short names (`edge`, `pb`), as kubectl accepts them. */
const ALIASES: Record<string, string> = {
  edge: 'edges',
  prefix: 'prefixes',
  service: 'services',
  svc: 'services',
  zone: 'zones',
  policy: 'policies',
  transit: 'transits',
  slo: 'slos',
  playbook: 'playbooks',
  pb: 'playbooks',
  run: 'runs',
  action: 'actions',
  pin: 'pins',
  consumer: 'consumers',
  token: 'tokens',
  signal: 'signals',
};

export function kindOf(name: string): [string, KindSpec] | undefined {
  const k = ALIASES[name] ?? name;
  const spec = KINDS[k];
  return spec ? [k, spec] : undefined;
}
