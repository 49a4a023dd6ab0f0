import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotEdge } from '../packages/core/src/index.ts';

/**
 * gdnsd's configuration equivalent to Catchment's demo steering: its geoip plugin with a
 * GeoIP2 City database, the demo edges as datacenters (nearest by coordinates), and
 * www.example.net as a DYNA record. Writes it under `dir`; returns the config directory.
 */
export function writeGdnsdConfig(dir: string, port: number, cityFile: string, edges: SnapshotEdge[]): string {
  const conf = join(dir, 'gdnsd');
  const zones = join(conf, 'zones');
  for (const d of [zones, join(dir, 'gdnsd-run'), join(dir, 'gdnsd-state')]) mkdirSync(d, { recursive: true });
  const names = edges.map((e) => e.name);
  writeFileSync(
    join(conf, 'config'),
    `options => {
  listen => [ 127.0.0.1:${port} ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => ${join(dir, 'gdnsd-run')}
  state_dir => ${join(dir, 'gdnsd-state')}
}
plugins => {
  geoip => {
    maps => {
      prod => {
        geoip2_db => ${cityFile}
        datacenters => [ ${names.join(', ')} ]
        auto_dc_coords => { ${edges.map((e) => `${e.name} => [ ${e.lat}, ${e.lon} ]`).join(', ')} }
        map => { AS => { CN => [ sin ] }, OC => [ syd, sin ] }
      }
    }
    resources => {
      www => {
        map => prod
        dcmap => { ${edges.map((e, i) => `${e.name} => 198.18.${i + 1}.10`).join(', ')} }
      }
    }
  }
}
`,
  );
  writeFileSync(
    join(zones, 'example.net'),
    `$TTL 3600
@ SOA ns1 hostmaster 2026112201 3600 600 1209600 60
@ NS ns1
ns1 A 192.0.2.53
www 30 DYNA geoip!www
`,
  );
  return conf;
}
