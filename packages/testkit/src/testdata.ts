import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * MaxMind's published GeoIP test databases, kept outside the repository in the
 * `shared/` folder beside the checkout (CI clones the repository next to it).
 * CATCHMENT_TESTDATA overrides the location.
 */
function findGeoipTestdata(): string {
  const candidates = [
    process.env.CATCHMENT_TESTDATA,
    fileURLToPath(new URL('../../../../shared/testdata/geoip', import.meta.url)),
    '/work/shared/testdata/geoip',
  ].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(`${p}/GeoIP2-City-Test.mmdb`));
  if (!found) throw new Error(`GeoIP test databases not found; looked in ${candidates.join(', ')}`);
  return found;
}

export const GEOIP_TESTDATA: string = findGeoipTestdata();
