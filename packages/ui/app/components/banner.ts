import { html } from '../html.ts';
import { useStore } from '../store.ts';

/** Shown while the API does not answer; the page keeps its last data and retries. */
export function Banner() {
  const s = useStore();
  if (!s.unreachable) return null;
  return html`<div class="banner" role="alert" data-testid="unreachable">
    <strong>API unreachable:</strong> ${s.unreachable}. Showing the last known state
    ${s.snapshot ? html` (snapshot v${s.snapshot.version})` : ''}; retrying every second.
  </div>`;
}
