import { EDGE_OVERRIDES, EDGE_STATES, PLAYBOOK_MODES, RECORD_TYPES, SLO_METRICS } from '@catchment/core';
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  cidr,
  doublePrecision,
  index,
  inet,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The PostgreSQL schema: the source of truth. Constraints that keep the data sane
 * live here (names, foreign keys, inet/cidr types, no overlapping unicast blocks);
 * the rule "a unicast prefix lies inside its declared supernet" is a trigger in
 * migrations/0001_domain_triggers.sql because it spans two rows.
 */
const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updated = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const edgeState = pgEnum('edge_state', EDGE_STATES);
export const edgeOverride = pgEnum('edge_override', EDGE_OVERRIDES);
export const recordType = pgEnum('record_type', RECORD_TYPES);
export const prefixKind = pgEnum('prefix_kind', ['unicast', 'anycast']);
export const sloMetric = pgEnum('slo_metric', SLO_METRICS);
export const playbookMode = pgEnum('playbook_mode', PLAYBOOK_MODES);
export const tokenRole = pgEnum('token_role', ['viewer', 'operator', 'admin', 'agent']);
export const matchKind = pgEnum('match_kind', ['cidr', 'asn', 'country', 'continent']);

export const zones = pgTable('zones', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  ttl: integer('ttl').notNull().default(3600),
  soa: jsonb('soa').notNull(),
  ns: text('ns').array().notNull(),
  /** The zone's `dnssec` block as configured (null: unsigned). */
  dnssec: jsonb('dnssec'),
  createdAt: created(),
  updatedAt: updated(),
});

export const records = pgTable(
  'records',
  {
    id: serial('id').primaryKey(),
    zoneId: integer('zone_id')
      .notNull()
      .references(() => zones.id, { onDelete: 'cascade' }),
    /** Absolute owner name, lower case, no final dot. */
    name: text('name').notNull(),
    type: recordType('type').notNull(),
    ttl: integer('ttl'),
    value: text('value').notNull(),
    createdAt: created(),
  },
  (t) => [
    uniqueIndex('records_unique').on(t.zoneId, t.name, t.type, t.value),
    check('records_ttl', sql`${t.ttl} IS NULL OR ${t.ttl} >= 0`),
  ],
);

export const edges = pgTable(
  'edges',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull().unique(),
    description: text('description'),
    lat: doublePrecision('lat').notNull(),
    lon: doublePrecision('lon').notNull(),
    country: text('country').notNull(),
    continent: text('continent').notNull(),
    region: text('region'),
    capacityRps: doublePrecision('capacity_rps').notNull(),
    capacityGbps: doublePrecision('capacity_gbps'),
    state: edgeState('state').notNull().default('active'),
    /** Set by operators only; automation never writes it (safety rule 8). */
    override: edgeOverride('override').notNull().default('none'),
    dsrAddress: inet('dsr_address'),
    /** How the edge sheds by DSR: encapsulation, GUE port (null: the default), client prefix rules. */
    dsrEncap: text('dsr_encap').notNull().default('ipip'),
    dsrGuePort: integer('dsr_gue_port'),
    dsrClientPrefixes: jsonb('dsr_client_prefixes').notNull().default([]),
    /** DNS load-spreading watermarks `{low, high}` (fractions of the threshold); null: the settings' default. */
    watermarks: jsonb('watermarks'),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    check('edges_lat', sql`${t.lat} BETWEEN -90 AND 90`),
    check('edges_lon', sql`${t.lon} BETWEEN -180 AND 180`),
    check('edges_capacity', sql`${t.capacityRps} > 0`),
    check('edges_country', sql`${t.country} ~ '^[A-Z]{2}$'`),
    check('edges_dsr_encap', sql`${t.dsrEncap} IN ('ipip', 'gue')`),
    check('edges_dsr_gue_port', sql`${t.dsrGuePort} BETWEEN 1 AND 65535`),
    check('edges_dsr_client_prefixes', sql`jsonb_typeof(${t.dsrClientPrefixes}) = 'array'`),
  ],
);

export const policies = pgTable('policies', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description'),
  createdAt: created(),
  updatedAt: updated(),
});

export const policyRules = pgTable(
  'policy_rules',
  {
    id: serial('id').primaryKey(),
    policyId: integer('policy_id')
      .notNull()
      .references(() => policies.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    kind: matchKind('kind').notNull(),
    cidr: cidr('cidr'),
    asn: bigint('asn', { mode: 'number' }),
    country: text('country'),
    continent: text('continent'),
  },
  (t) => [
    uniqueIndex('policy_rules_position').on(t.policyId, t.position),
    check(
      'policy_rules_one_match',
      sql`(${t.kind} = 'cidr' AND ${t.cidr} IS NOT NULL) OR (${t.kind} = 'asn' AND ${t.asn} IS NOT NULL)
        OR (${t.kind} = 'country' AND ${t.country} IS NOT NULL) OR (${t.kind} = 'continent' AND ${t.continent} IS NOT NULL)`,
    ),
  ],
);

/** Ordered target edges of a rule. */
export const policyRuleEdges = pgTable(
  'policy_rule_edges',
  {
    ruleId: integer('rule_id')
      .notNull()
      .references(() => policyRules.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    edgeId: integer('edge_id')
      .notNull()
      .references(() => edges.id, { onDelete: 'restrict' }),
  },
  (t) => [primaryKey({ columns: [t.ruleId, t.position] })],
);

export const services = pgTable(
  'services',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull().unique(),
    zoneId: integer('zone_id')
      .notNull()
      .references(() => zones.id, { onDelete: 'restrict' }),
    ttl: integer('ttl').notNull().default(30),
    policyId: integer('policy_id').references(() => policies.id, { onDelete: 'set null' }),
    ports: integer('ports').array().notNull().default(sql`'{80,443}'::integer[]`),
    anycastV4: inet('anycast_v4'),
    anycastV6: inet('anycast_v6'),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    check('services_anycast_v4', sql`${t.anycastV4} IS NULL OR family(${t.anycastV4}) = 4`),
    check('services_anycast_v6', sql`${t.anycastV6} IS NULL OR family(${t.anycastV6}) = 6`),
  ],
);

export const serviceAddresses = pgTable(
  'service_addresses',
  {
    id: serial('id').primaryKey(),
    serviceId: integer('service_id')
      .notNull()
      .references(() => services.id, { onDelete: 'cascade' }),
    edgeId: integer('edge_id')
      .notNull()
      .references(() => edges.id, { onDelete: 'cascade' }),
    address: inet('address').notNull(),
  },
  (t) => [
    uniqueIndex('service_addresses_unique').on(t.serviceId, t.edgeId, t.address),
    check('service_addresses_host', sql`masklen(${t.address}) = CASE family(${t.address}) WHEN 4 THEN 32 ELSE 128 END`),
  ],
);

export const transits = pgTable('transits', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  asn: bigint('asn', { mode: 'number' }).notNull(),
  /** Intent name → community values, e.g. {"prepend-2x": ["64500:2002"]}. */
  intents: jsonb('intents').notNull(),
  createdAt: created(),
});

export const prefixes = pgTable(
  'prefixes',
  {
    id: serial('id').primaryKey(),
    cidr: cidr('cidr').notNull().unique(),
    kind: prefixKind('kind').notNull(),
    /** Owner of a unicast prefix; null for anycast supernets. */
    edgeId: integer('edge_id').references(() => edges.id, { onDelete: 'restrict' }),
    supernetId: integer('supernet_id'),
    communities: text('communities').array().notNull().default(sql`'{}'::text[]`),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [
    check(
      'prefixes_owner',
      sql`(${t.kind} = 'unicast' AND ${t.edgeId} IS NOT NULL) OR (${t.kind} = 'anycast' AND ${t.edgeId} IS NULL AND ${t.supernetId} IS NULL)`,
    ),
    index('prefixes_edge').on(t.edgeId),
  ],
);

/** Edges announcing an anycast supernet. */
export const prefixAnnouncers = pgTable(
  'prefix_announcers',
  {
    prefixId: integer('prefix_id')
      .notNull()
      .references(() => prefixes.id, { onDelete: 'cascade' }),
    edgeId: integer('edge_id')
      .notNull()
      .references(() => edges.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.prefixId, t.edgeId] })],
);

export const slos = pgTable(
  'slos',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull().unique(),
    edgeId: integer('edge_id').references(() => edges.id, { onDelete: 'cascade' }),
    metric: sloMetric('metric').notNull(),
    enterThreshold: doublePrecision('enter_threshold').notNull(),
    exitThreshold: doublePrecision('exit_threshold').notNull(),
    window: text('window').notNull(),
    query: text('query'),
    /** SloObjective (packages/core slo-objective.ts): target, budget window, burn-rate pairs. */
    objective: jsonb('objective'),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [check('slos_hysteresis', sql`${t.exitThreshold} <= ${t.enterThreshold}`)],
);

/** The controller's latest error-budget reading per SLO with an objective and edge. */
export const sloBudgets = pgTable(
  'slo_budgets',
  {
    sloId: integer('slo_id')
      .notNull()
      .references(() => slos.id, { onDelete: 'cascade' }),
    edgeId: integer('edge_id')
      .notNull()
      .references(() => edges.id, { onDelete: 'cascade' }),
    budgetRemaining: doublePrecision('budget_remaining'),
    /** Bad ratio and burn rate per window: { "5m": { ratio, burnRate }, ... }. */
    windows: jsonb('windows').notNull(),
    /** The burning pairs: [{ long, short, factor, severity }]. */
    firing: jsonb('firing').notNull(),
    evaluatedAt: timestamp('evaluated_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.sloId, t.edgeId] })],
);

export const playbooks = pgTable('playbooks', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  mode: playbookMode('mode').notNull().default('auto'),
  trigger: jsonb('trigger').notNull(),
  steps: jsonb('steps').notNull(),
  cooldown: text('cooldown'),
  createdAt: created(),
  updatedAt: updated(),
});

/** One execution of a playbook: a persisted state machine (see apps/controller). */
export const playbookRuns = pgTable(
  'playbook_runs',
  {
    id: serial('id').primaryKey(),
    /** Null once the playbook is deleted: the run keeps its name and steps in `trigger` (the run's origin). */
    playbookId: integer('playbook_id').references(() => playbooks.id, { onDelete: 'set null' }),
    edgeId: integer('edge_id').references(() => edges.id, { onDelete: 'restrict' }),
    state: text('state').notNull(),
    currentStep: integer('current_step').notNull().default(0),
    mode: playbookMode('mode').notNull(),
    trigger: jsonb('trigger').notNull(),
    plan: jsonb('plan'),
    /** The controller's memory between ticks (phase start, exit-held-since, ...): apps/controller run-machine.ts. */
    machine: jsonb('machine'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: updated(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [
    index('playbook_runs_state').on(t.state),
    /** At most one open run per playbook and edge, whichever controller replica asks. */
    uniqueIndex('playbook_runs_one_open').on(t.playbookId, t.edgeId).where(sql`${t.endedAt} IS NULL`),
  ],
);

export const runSteps = pgTable(
  'run_steps',
  {
    id: serial('id').primaryKey(),
    runId: integer('run_id')
      .notNull()
      .references(() => playbookRuns.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    /** Stage within a step (e.g. the index in a dns-shift schedule). */
    stage: integer('stage').notNull().default(0),
    kind: text('kind').notNull(),
    state: text('state').notNull(),
    params: jsonb('params').notNull(),
    predicted: jsonb('predicted'),
    observed: jsonb('observed'),
    refusal: jsonb('refusal'),
    actionId: integer('action_id'),
    /** Approval mode: the operator who approved or rejected the stage, and when. */
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('run_steps_unique').on(t.runId, t.position, t.stage)],
);

/**
 * Operator and automated actions (drain, shift, withdraw, communities, dsr, freeze...).
 * Active while not reverted and not expired; the snapshot compiler applies them.
 */
export const actions = pgTable(
  'actions',
  {
    id: serial('id').primaryKey(),
    kind: text('kind').notNull(),
    edgeId: integer('edge_id').references(() => edges.id, { onDelete: 'cascade' }),
    prefixId: integer('prefix_id').references(() => prefixes.id, { onDelete: 'cascade' }),
    params: jsonb('params').notNull().default(sql`'{}'::jsonb`),
    reason: text('reason').notNull(),
    actor: text('actor').notNull(),
    source: text('source').notNull(),
    forced: boolean('forced').notNull().default(false),
    runId: integer('run_id').references(() => playbookRuns.id, { onDelete: 'set null' }),
    /** Operator actions: `key#request digest`, unique per token (the controller's keys have no token). */
    idempotencyKey: text('idempotency_key'),
    // No foreign key: token ids are never reused, and a deleted token's keys must not collide.
    idempotencyTokenId: integer('idempotency_token_id'),
    /** The first response's body, replayed verbatim to a retry with the same key. */
    idempotencyResponse: jsonb('idempotency_response'),
    createdAt: created(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revertedAt: timestamp('reverted_at', { withTimezone: true }),
    revertedBy: text('reverted_by'),
  },
  (t) => [
    check('actions_source', sql`${t.source} IN ('operator', 'automation')`),
    check('actions_reason', sql`length(${t.reason}) > 0`),
    index('actions_active').on(t.revertedAt, t.expiresAt),
    // Per token; the controller's run keys (no token, coalesced to 0) stay globally unique.
    uniqueIndex('actions_idempotency')
      .on(sql`coalesce(${t.idempotencyTokenId}, 0)`, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
  ],
);

/** Alerts and SLO evaluations, deduplicated by fingerprint and start time. */
export const signals = pgTable(
  'signals',
  {
    id: serial('id').primaryKey(),
    source: text('source').notNull(),
    fingerprint: text('fingerprint').notNull(),
    name: text('name').notNull(),
    edgeId: integer('edge_id').references(() => edges.id, { onDelete: 'set null' }),
    slo: text('slo'),
    severity: text('severity'),
    status: text('status').notNull(),
    labels: jsonb('labels').notNull(),
    value: doublePrecision('value'),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: updated(),
  },
  (t) => [
    uniqueIndex('signals_identity').on(t.source, t.fingerprint, t.startsAt),
    check('signals_status', sql`${t.status} IN ('firing', 'resolved')`),
  ],
);

export const snapshots = pgTable('snapshots', {
  version: integer('version').primaryKey(),
  checksum: text('checksum').notNull(),
  body: jsonb('body').notNull(),
  createdAt: created(),
  createdBy: text('created_by').notNull(),
});

/** Append-only (a trigger refuses UPDATE and DELETE). */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    objectType: text('object_type').notNull(),
    objectId: text('object_id'),
    reason: text('reason'),
    forced: boolean('forced').notNull().default(false),
    before: jsonb('before'),
    after: jsonb('after'),
  },
  (t) => [index('audit_log_at').on(t.at), index('audit_log_object').on(t.objectType, t.objectId)],
);

export const apiTokens = pgTable('api_tokens', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  role: tokenRole('role').notNull(),
  /** Public lookup id (the part of the token before the dot); the secret is stored hashed. */
  lookup: text('lookup').notNull().unique(),
  hash: text('hash').notNull(),
  /** For agent tokens: the edge or DNS server it may report for. */
  scope: text('scope'),
  createdAt: created(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
});

/** Latest state report of each DNS server and edge agent. */
export const consumers = pgTable('consumers', {
  name: text('name').primaryKey(),
  kind: text('kind').notNull(),
  /** The edge an edge agent reports for (its observation feeds that edge's observed state). */
  edge: text('edge'),
  snapshotVersion: integer('snapshot_version'),
  healthy: boolean('healthy').notNull(),
  load: jsonb('load'),
  details: jsonb('details'),
  reportedAt: timestamp('reported_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Load reported for each edge (requests/s), the input of utilisation and the planner. */
export const edgeLoads = pgTable('edge_loads', {
  edgeId: integer('edge_id')
    .primaryKey()
    .references(() => edges.id, { onDelete: 'cascade' }),
  rps: doublePrecision('rps').notNull(),
  reportedAt: timestamp('reported_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Load history of each edge, downsampled to one row per edge and minute (count, sum and
 * maximum of the reports in it), for the dashboard's charts. Bounded: the report route keeps
 * LOAD_HISTORY_RETENTION_MS of it (packages/db load-history.ts), at most 1440 rows per edge.
 */
export const edgeLoadHistory = pgTable(
  'edge_load_history',
  {
    edgeId: integer('edge_id')
      .notNull()
      .references(() => edges.id, { onDelete: 'cascade' }),
    minute: timestamp('minute', { withTimezone: true }).notNull(),
    samples: integer('samples').notNull(),
    rpsSum: doublePrecision('rps_sum').notNull(),
    rpsMax: doublePrecision('rps_max').notNull(),
  },
  (t) => [primaryKey({ columns: [t.edgeId, t.minute] })],
);

/** Global settings of the safety rules (one row, id = 1). */
export const settings = pgTable(
  'settings',
  {
    id: integer('id').primaryKey().default(1),
    values: jsonb('values').notNull(),
  },
  (t) => [check('settings_singleton', sql`${t.id} = 1`)],
);

/**
 * DNSSEC keys, by zone name (not id: keys outlive a zone deleted and created again, so the DS at
 * the parent stays valid). The private key is AES-256-GCM ciphertext under the key-encryption key
 * (packages/core/src/dnssec/keys.ts); it is never stored in clear.
 * state: published (in DNSKEY, not signing), active (signing), retired (in DNSKEY, no longer
 * signing), removed (gone from the zone; kept for the record). `ds`: listed in CDS/CDNSKEY.
 */
export const dnssecKeys = pgTable(
  'dnssec_keys',
  {
    id: serial('id').primaryKey(),
    zone: text('zone').notNull(),
    role: text('role').notNull(),
    algorithm: integer('algorithm').notNull(),
    flags: integer('flags').notNull(),
    keyTag: integer('key_tag').notNull(),
    publicKey: text('public_key').notNull(),
    privateKey: text('private_key').notNull(),
    state: text('state').notNull(),
    ds: boolean('ds').notNull().default(false),
    createdAt: created(),
    stateChangedAt: timestamp('state_changed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('dnssec_keys_zone').on(t.zone),
    check('dnssec_keys_role', sql`${t.role} IN ('ksk', 'zsk', 'csk')`),
    check('dnssec_keys_state', sql`${t.state} IN ('published', 'active', 'retired', 'removed')`),
    check('dnssec_keys_algorithm', sql`${t.algorithm} IN (13, 15)`),
  ],
);

/**
 * Key rollovers, one row each: the kind (zsk: pre-publish; ksk: double signature), the step
 * reached, and the earliest time of the next step (computed from TTLs when the step was taken).
 */
export const dnssecRollovers = pgTable(
  'dnssec_rollovers',
  {
    id: serial('id').primaryKey(),
    zone: text('zone').notNull(),
    kind: text('kind').notNull(),
    step: text('step').notNull(),
    oldKeyId: integer('old_key_id').references(() => dnssecKeys.id),
    newKeyId: integer('new_key_id').references(() => dnssecKeys.id),
    nextStepAt: timestamp('next_step_at', { withTimezone: true }),
    startedAt: created(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    check('dnssec_rollovers_kind', sql`${t.kind} IN ('zsk', 'ksk')`),
    // One rollover in progress per zone and kind.
    uniqueIndex('dnssec_rollovers_open').on(t.zone, t.kind).where(sql`${t.finishedAt} IS NULL`),
  ],
);
