/**
 * Simulator benchmark (pnpm bench:simulate): time and peak memory of one strategy run as each
 * dimension grows (client blocks, edges, resolvers, duration, transits), each size in a fresh process.
 * The engine runs with the scripted driver (a DNS shift and a withdrawal at fixed times), so the
 * numbers are the simulator's own; the last row adds the real controller (PGlite, a tick every
 * 2 s of simulated time) on the demo configuration.
 * Options: SIZES=small (the suite's size only), or a JSON list of {blocks, edges, resolvers, minutes, transits?}.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

interface Size {
  blocks: number;
  edges: number;
  resolvers: number;
  minutes: number;
  controller?: boolean;
  /** Transits in the synthetic configuration (default none: one implicit transit); every country is behind each alike. */
  transits?: number;
}

// Large countries of the GeoIP database: enough /24s for a million client blocks between them.
const CLIENT_COUNTRIES = [
  'US',
  'CN',
  'JP',
  'DE',
  'GB',
  'KR',
  'BR',
  'FR',
  'CA',
  'IT',
  'NL',
  'AU',
  'RU',
  'IN',
  'ES',
  'MX',
  'SE',
  'TW',
  'PL',
  'ZA',
];
// Edge sites: one per country (edge i in EDGE_COUNTRIES[i % n]), 200 at most.
const EDGE_COUNTRIES =
  'US CN JP DE GB KR BR FR CA IT NL AU RU IN ES MX SE TW PL ZA AR CL CO PE VE EC BO PY UY NG KE EG MA DZ TN GH ET TZ UG SN CI CM AO MZ ZM ZW BW NA MG MU SA AE QA KW BH OM JO LB IL TR IR IQ PK BD LK NP MM TH VN KH LA MY SG ID PH NZ FJ PG NO FI DK IS IE PT BE LU CH AT CZ SK HU RO BG GR RS HR SI BA ME MK AL UA BY LT LV EE MD GE AM AZ KZ UZ TM KG TJ MN HK MO BT MV AF YE SY CY MT SD LY ML NE TD BF BJ TG GN SL LR GM GW MR CV ST GQ GA CG CD CF SS ER DJ SO RW BI MW LS SZ KM SC RE YT GT HN SV NI CR PA CU DO HT JM TT BB BS BZ GY SR PR AG DM GD KN LC VC AW CW SX BM KY TC VG VI GL FO AD MC SM LI VA GI IM JE GG AX BN TL NC PF WS TO VU SB KI TV NR FM MH PW GU MP AS'.split(
    ' ',
  );

/** A configuration with `n` edges: three large ones announce the supernet, each has its own /24. */
function syntheticConfig(n: number, transits = 0): unknown {
  const edges = Array.from({ length: n }, (_, i) => {
    const country = EDGE_COUNTRIES[i % EDGE_COUNTRIES.length]!;
    return { name: `e${i}-${country.toLowerCase()}`, country };
  });
  // Edge i's /24 is the (i+1)-th of 198.18.0.0/15 (RFC 2544, never routed).
  const net = (i: number) => `198.${18 + ((i + 1) >> 8)}.${(i + 1) & 255}`;
  return {
    zones: [
      {
        name: 'example.net',
        soa: {
          mname: 'ns1.example.net.',
          rname: 'h.example.net.',
          serial: 1,
          refresh: 3600,
          retry: 600,
          expire: 1209600,
          minimum: 60,
        },
        ns: ['ns1.example.net.'],
      },
    ],
    edges: edges.map((e, i) => ({
      name: e.name,
      location: { ...centroid(e.country), country: e.country, continent: continent(e.country) },
      capacity: { rps: i < 3 ? 2_000_000 : 200_000 },
    })),
    transits: Array.from({ length: transits }, (_, k) => ({
      name: `transit-${k}`,
      asn: 64500 + k,
      intents: { 'prepend-1x': [`${64500 + k}:2001`] },
    })),
    prefixes: [
      { cidr: '198.18.0.0/15', kind: 'anycast', announcers: edges.slice(0, 3).map((e) => e.name) },
      ...edges.map((e, i) => ({ cidr: `${net(i)}.0/24`, kind: 'unicast', edge: e.name, supernet: '198.18.0.0/15' })),
    ],
    services: [
      {
        name: 'www.example.net',
        zone: 'example.net',
        ttl: 60,
        anycast: { v4: '198.18.0.1' },
        addresses: Object.fromEntries(edges.map((e, i) => [e.name, { v4: [`${net(i)}.10`] }])),
      },
    ],
  };
}

let geoMod: typeof import('@catchment/geo') | undefined;
function centroid(c: string) {
  const p = geoMod!.countryCentroid(c);
  if (!p) throw new Error(`no centroid for ${c}`);
  return { lat: Math.round(p.lat * 100) / 100, lon: Math.round(p.lon * 100) / 100 };
}
function continent(c: string) {
  return geoMod!.countryContinent(c)!;
}

async function one(size: Size): Promise<void> {
  geoMod = await import('@catchment/geo');
  const sim = await import('@catchment/sim');
  const dir = mkdtempSync(join(tmpdir(), 'bench-sim-'));
  try {
    const started = performance.now();
    let configPath = new URL('../config/demo.yaml', import.meta.url).pathname;
    if (!size.controller) {
      configPath = join(dir, 'config.yaml');
      writeFileSync(configPath, stringify(syntheticConfig(size.edges, size.transits)));
    }
    const countries = CLIENT_COUNTRIES.slice(
      0,
      Math.min(CLIENT_COUNTRIES.length, Math.max(1, Math.ceil(size.blocks / 500))),
    );
    const perCountry = Math.floor(size.blocks / countries.length);
    const shifted = size.controller ? 'lhr' : 'e4-gb';
    const at = (f: number) => `${Math.round(size.minutes * 60 * f)}s`;
    const model = sim.scenarioFrom(
      {
        config: configPath,
        duration: `${size.minutes}m`,
        clients: countries.map((c) => ({ country: c, rps: perCountry * 20, blocks: perCountry })),
        resolvers: { ispPerCountry: Math.max(1, Math.round(size.resolvers / countries.length)) },
        events: [
          {
            kind: 'flash-crowd',
            at: at(1 / 12),
            duration: at(1 / 2),
            ramp: '1m',
            factor: 2,
            countries: ['GB', 'KR', 'US'],
          },
        ],
        actions: [
          { at: at(1 / 6), kind: 'dns-shift', edge: shifted, params: { percent: 50 } },
          {
            at: at(1 / 4),
            kind: 'withdraw-unicast',
            edge: shifted,
            params: { prefix: size.controller ? '198.18.4.0/24' : '198.18.5.0/24' },
          },
        ],
        strategies: [size.controller ? 'full' : 'scripted'],
      },
      dir,
    );
    let peak = 0;
    const sample = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    let drivers: import('@catchment/sim').DriverFactory | undefined;
    if (size.controller) drivers = (await import('../apps/cli/src/simulate/controller-driver.ts')).controllerDrivers;
    const cpu0 = process.cpuUsage();
    const result = await sim.simulate(model, drivers ? { drivers } : {});
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sample);
    peak = Math.max(peak, process.memoryUsage().rss);
    const run = result.runs[0]!;
    process.stdout.write(
      `${JSON.stringify({
        ...size,
        entries: result.scenario.entries,
        resolversBuilt: result.scenario.resolvers,
        wallS: (performance.now() - started) / 1000,
        cpuS: (cpu.user + cpu.system) / 1e6,
        peakRssMb: peak / 2 ** 20,
        steps: run.steps.length,
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const DEFAULT_SIZES: Size[] = [
  { blocks: 10_000, edges: 20, resolvers: 1_000, minutes: 120 },
  { blocks: 100_000, edges: 20, resolvers: 1_000, minutes: 120 },
  { blocks: 1_000_000, edges: 20, resolvers: 1_000, minutes: 120 },
  { blocks: 100_000, edges: 200, resolvers: 1_000, minutes: 120 },
  { blocks: 100_000, edges: 20, resolvers: 100_000, minutes: 120 },
  { blocks: 100_000, edges: 20, resolvers: 1_000, minutes: 30 },
  { blocks: 1_000_000, edges: 200, resolvers: 100_000, minutes: 120 },
  { blocks: 1_000_000, edges: 200, resolvers: 100_000, minutes: 120, transits: 3 },
  { blocks: 10_000, edges: 6, resolvers: 1_000, minutes: 30, controller: true },
];

if (process.argv[2] === '--one') {
  process.env.CATCHMENT_LOG_LEVEL ??= 'silent';
  await one(JSON.parse(process.argv[3]!) as Size);
} else {
  const sizes: Size[] =
    process.env.SIZES === 'small'
      ? [{ blocks: 2_000, edges: 6, resolvers: 200, minutes: 10 }]
      : process.env.SIZES
        ? (JSON.parse(process.env.SIZES) as Size[])
        : DEFAULT_SIZES;
  process.stdout.write(
    `simulate benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}\n`,
  );
  process.stdout.write('| blocks | edges | resolvers | simulated | driver | cache entries | wall | CPU | peak RSS |\n');
  process.stdout.write('| ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n');
  for (const size of sizes) {
    let line: string;
    try {
      const out = execFileSync(
        process.execPath,
        ['--max-old-space-size=6144', import.meta.filename, '--one', JSON.stringify(size)],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          timeout: 1_800_000,
        },
      );
      const r = JSON.parse(out.trim().split('\n').at(-1)!);
      line = `| ${size.blocks} | ${size.edges} | ${r.resolversBuilt} | ${size.minutes} min | ${size.controller ? 'controller (PGlite)' : size.transits ? `scripted, ${size.transits} transits` : 'scripted'} | ${r.entries} | ${r.wallS.toFixed(1)} s | ${r.cpuS.toFixed(1)} s | ${Math.round(r.peakRssMb)} MB |`;
    } catch (err) {
      line = `| ${size.blocks} | ${size.edges} | ${size.resolvers} | ${size.minutes} min | ${size.controller ? 'controller' : 'scripted'} | failed: ${(err as Error).message.split('\n')[0]} |`;
    }
    process.stdout.write(`${line}\n`);
  }
}
