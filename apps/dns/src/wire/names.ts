/** Domain names as wire bytes: labels with length bytes, lower case, ending in the root. */
export function normaliseDnsName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

export function encodeName(name: string): Buffer {
  const n = normaliseDnsName(name);
  if (n === '') return Buffer.from([0]);
  const labels = n.split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`invalid label in "${name}"`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new Error(`name too long: "${name}"`);
  return out;
}

/**
 * Resolves a name as written in a zone's record: `@` is the apex, a final dot makes it absolute,
 * a name already ending in the zone is taken as absolute (snapshots carry absolute names without
 * the final dot), anything else is relative to the zone.
 */
export function absoluteName(name: string, zone: string): string {
  const n = name.trim().toLowerCase();
  if (n === '@' || n === '') return zone;
  if (n.endsWith('.')) return n.slice(0, -1);
  if (n === zone || n.endsWith(`.${zone}`)) return n;
  return `${n}.${zone}`;
}
