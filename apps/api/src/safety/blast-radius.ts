import type { SnapshotBody } from '@catchment/core';
import type { Refusal } from './index.ts';
import { shedEdges, shedShare } from './shed.ts';

/**
 * Safety rule 3, blast radius: at most M edges shed at once and at most X % of the
 * total capacity. Only a change that sheds more than before is judged, so undoing
 * never gets stuck behind the rule.
 */
export function checkBlastRadius(before: SnapshotBody, after: SnapshotBody): Refusal | undefined {
  const total = after.edges.reduce((sum, e) => sum + e.capacityRps, 0);
  const shedCapacity = (body: SnapshotBody) =>
    body.edges.reduce((sum, e) => sum + e.capacityRps * shedShare(body, e.name), 0);
  const edgesBefore = shedEdges(before);
  const edgesAfter = shedEdges(after);
  const { maxEdgesShed, maxCapacityShedPercent } = after.settings;
  if (edgesAfter.length > maxEdgesShed && edgesAfter.length > edgesBefore.length) {
    return {
      rule: 'blast-radius',
      message: `${edgesAfter.length} edges would be shed at once (${edgesAfter.join(', ')}); at most ${maxEdgesShed} allowed`,
      details: { shedEdges: edgesAfter, maxEdgesShed },
    };
  }
  const capBefore = shedCapacity(before);
  const capAfter = shedCapacity(after);
  const percent = total > 0 ? (100 * capAfter) / total : 0;
  if (percent > maxCapacityShedPercent && capAfter > capBefore) {
    return {
      rule: 'blast-radius',
      message: `${percent.toFixed(1)} % of total capacity would be shed; at most ${maxCapacityShedPercent} % allowed`,
      details: { shedPercent: Number(percent.toFixed(2)), maxCapacityShedPercent },
    };
  }
  return undefined;
}
