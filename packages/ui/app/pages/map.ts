import { geoNaturalEarth1, geoPath } from 'd3-geo';
import { feature } from 'topojson-client';
import type { Topology } from 'topojson-specification';
import land110 from 'world-atlas/land-110m.json';
import { qs } from '../api.ts';
import { loadLevel, pct, rps, until } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../live.ts';
import { useStore } from '../store.ts';
import type { Action, Page, SnapshotEdge } from '../types.ts';

const W = 960;
const H = 480;
const topology = land110 as unknown as Topology;
const land = feature(topology, topology.objects.land!);
const projection = geoNaturalEarth1().fitSize([W, H], land);
const landPath = geoPath(projection)(land) ?? '';

/** One word for how an edge is drawn: out of service first, then by utilisation. */
export function edgeStatus(e: SnapshotEdge): string {
  if (!e.usable) return e.override !== 'none' ? `out (${e.override})` : `out (${e.state})`;
  const level = loadLevel(e.utilisation, e.threshold);
  return level === 'unknown' ? 'no load report' : level === 'hot' ? 'overloaded' : level === 'warm' ? 'warm' : 'ok';
}
const statusClass = (e: SnapshotEdge) => (e.usable ? `edge-${loadLevel(e.utilisation, e.threshold)}` : 'edge-out');

export function MapPage() {
  const { snapshot, edges } = useStore();
  const actions = usePoll<Page<Action>>(`/v1/actions${qs({ active: true, limit: 500 })}`);
  if (!snapshot) return html`<p role="status">Loading the snapshot…</p>`;
  const { announcements, prefixes, automation } = snapshot.body;
  const byEdge = (name: string) => (actions.data?.items ?? []).filter((a) => a.edge === name);
  const maxCap = Math.max(...edges.map((e) => e.capacityRps), 1);
  const supernets = prefixes.filter((p) => p.kind === 'anycast');
  const pos = (e: SnapshotEdge) => projection([e.lon, e.lat]) ?? [0, 0];

  return html`<section aria-labelledby="map-title">
    <h1 id="map-title">Edges</h1>
    <p class="muted">
      Snapshot v${snapshot.version}. Automation: ${automation.frozen ? html`<strong class="warn">frozen globally</strong>` : 'running'}${
        automation.frozenEdges.length ? `, frozen on ${automation.frozenEdges.join(', ')}` : ''
      }.
    </p>
    <figure class="map">
      <svg viewBox=${`0 0 ${W} ${H}`} role="group" aria-labelledby="map-caption" data-testid="world-map">
        <path d=${landPath} class="land" />
        ${supernets.map((s) =>
          s.announcers.map((a, i) => {
            const from = edges.find((e) => e.name === a);
            const to = edges.find((e) => e.name === s.announcers[(i + 1) % s.announcers.length]);
            if (!from || !to || s.announcers.length < 2) return null;
            const [x1, y1] = pos(from);
            const [x2, y2] = pos(to);
            return html`<line x1=${x1} y1=${y1} x2=${x2} y2=${y2} class="anycast-link" />`;
          }),
        )}
        ${edges.map((e) => {
          const [x, y] = pos(e);
          const r = 6 + 14 * Math.sqrt(e.capacityRps / maxCap);
          return html`<a href=${`#/edges/${e.name}`} aria-label=${`${e.name} ${pct(e.utilisation)}: ${edgeStatus(e)}`}
              data-edge=${e.name} data-status=${edgeStatus(e)} class="edge-mark">
            <circle cx=${x} cy=${y} r=${r} class=${statusClass(e)} />
            <text x=${x + r + 3} y=${y + 4} class="edge-label">${e.name} ${pct(e.utilisation)}</text>
          </a>`;
        })}
      </svg>
      <figcaption id="map-caption">
        World map of the edges: size by capacity; green below 70 % utilisation, amber below 85 %, red above,
        grey when out of service, blue without a load report; dashed lines join the announcers of an anycast supernet.
      </figcaption>
    </figure>

    <h2>State of every edge</h2>
    <table data-testid="edge-table" aria-label="edges">
      <thead><tr>
        <th scope="col">edge</th><th scope="col">status</th><th scope="col">state</th><th scope="col">override</th>
        <th scope="col">load / capacity</th><th scope="col">utilisation</th><th scope="col">automation</th>
        <th scope="col">active steps</th><th scope="col">announcements</th>
      </tr></thead>
      <tbody>
        ${edges.map((e) => {
          const anns = announcements.filter((a) => a.edge === e.name);
          const frozen = automation.frozen || automation.frozenEdges.includes(e.name);
          return html`<tr data-edge=${e.name} class=${statusClass(e)}>
            <th scope="row"><a href=${`#/edges/${e.name}`}>${e.name}</a></th>
            <td data-testid="status">${edgeStatus(e)}</td>
            <td>${e.state}</td>
            <td>${e.override}</td>
            <td>${rps(e.loadRps)} / ${rps(e.capacityRps)}</td>
            <td>${pct(e.utilisation)}</td>
            <td>${frozen ? 'frozen' : 'auto'}${e.shiftPercent ? `, shifting ${e.shiftPercent} %` : ''}</td>
            <td>${byEdge(e.name).map((a) => html`<div>${a.kind} (${a.source}, ${until(a.expiresAt)})</div>`)}</td>
            <td>${anns.map((a) => html`<div class=${`ann-${a.state}`}>${a.prefix} ${a.state}</div>`)}</td>
          </tr>`;
        })}
      </tbody>
    </table>

    <h2>Anycast supernets</h2>
    <table data-testid="supernets" aria-label="anycast supernets">
      <thead><tr><th scope="col">supernet</th><th scope="col">announcers (configured)</th><th scope="col">announced now by</th></tr></thead>
      <tbody>
        ${supernets.map(
          (s) => html`<tr>
            <th scope="row"><code>${s.cidr}</code></th>
            <td>${s.announcers.join(', ')}</td>
            <td>${
              announcements
                .filter((a) => a.prefix === s.cidr && a.state === 'announced')
                .map((a) => a.edge)
                .join(', ') || html`<strong class="warn">nobody</strong>`
            }</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
