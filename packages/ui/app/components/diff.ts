import diff from 'microdiff';
import { html } from '../html.ts';
import type { Change } from '../types.ts';

const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));

/** A list of changes as before → after, one line per path (the API's dry-run diff). */
export function ChangeList({ changes, label }: { changes: Change[]; label: string }) {
  if (changes.length === 0) return html`<p class="muted">No change to the published snapshot.</p>`;
  return html`<table class="diff" aria-label=${label}>
    <thead><tr><th scope="col">path</th><th scope="col">before</th><th scope="col">after</th></tr></thead>
    <tbody>
      ${changes.map(
        (c) => html`<tr>
          <td><code>${c.path}</code></td>
          <td class="before"><code>${show(c.before)}</code></td>
          <td class="after"><code>${show(c.after)}</code></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Before and after of an audit record as the same kind of list (microdiff finds the paths). */
export function ObjectDiff({ before, after }: { before: unknown; after: unknown }) {
  const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : { value: v });
  const changes: Change[] = diff(obj(before ?? {}), obj(after ?? {})).map((d) => ({
    path: `/${d.path.join('/')}`,
    before: 'oldValue' in d ? d.oldValue : undefined,
    after: 'value' in d ? d.value : undefined,
  }));
  return html`<${ChangeList} changes=${changes} label="before and after" />`;
}
