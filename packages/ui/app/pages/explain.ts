import { useState } from 'preact/hooks';
import { ApiError, api, qs } from '../api.ts';
import { html } from '../html.ts';
import { useStore } from '../store.ts';

interface Explained {
  snapshotVersion: number;
  query: Record<string, string>;
  decision: {
    service?: string;
    source?: string;
    client?: string;
    block?: string;
    scope?: number;
    edge?: string | null;
    addresses?: { v4?: string[]; v6?: string[] };
    reason?: string;
    trace?: { step: string; detail: string }[];
  } & Record<string, unknown>;
}

/** GET /v1/explain as a form: the answer DNS gives now, and why. */
export function ExplainPage() {
  const { snapshot } = useStore();
  const first = snapshot?.body.services[0]?.name ?? '';
  const [name, setName] = useState(first);
  const [client, setClient] = useState('');
  const [resolver, setResolver] = useState('');
  const [result, setResult] = useState<Explained | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setResult(
        await api<Explained>(
          `/v1/explain${qs({ name: name.trim(), client: client.trim(), resolver: resolver.trim() })}`,
        ),
      );
    } catch (err) {
      setResult(null);
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  const input = (id: string, label: string, value: string, set: (v: string) => void, hint: string) =>
    html`<label for=${id}>${label}</label><input id=${id} name=${id} value=${value} placeholder=${hint}
      onInput=${(e: Event) => set((e.target as HTMLInputElement).value)} />`;
  const d = result?.decision;
  return html`<section aria-labelledby="explain-title">
    <h1 id="explain-title">Explain a DNS answer</h1>
    <form class="form" onSubmit=${submit} aria-label="explain">
      ${input('explain-name', 'Name', name, setName, 'www.example.net')}
      ${input('explain-client', 'Client IP or subnet (ECS)', client, setClient, '81.2.69.142 or 81.2.69.0/24')}
      ${input('explain-resolver', 'Resolver address (used without ECS)', resolver, setResolver, '192.0.2.53')}
      <div class="buttons"><button type="submit" class="primary">Explain</button></div>
    </form>
    ${error ? html`<pre class="error" role="alert">${error}</pre>` : null}
    ${
      d
        ? html`<div data-testid="explain-result" aria-live="polite">
            <h2>Answer (snapshot v${result?.snapshotVersion})</h2>
            <dl class="facts">
              <dt>edge</dt><dd data-testid="explain-edge">${d.edge ?? '(anycast fallback)'}</dd>
              <dt>addresses</dt><dd data-testid="explain-addresses">${[...(d.addresses?.v4 ?? []), ...(d.addresses?.v6 ?? [])].join(', ') || '–'}</dd>
              <dt>reason</dt><dd data-testid="explain-reason">${d.reason ?? '–'}</dd>
              <dt>decided from</dt><dd>${d.source ?? '–'} ${d.client ?? ''} (block ${d.block ?? '–'}, ECS scope /${d.scope ?? '–'})</dd>
            </dl>
            <h2>Decision trace</h2>
            <ol data-testid="explain-trace">${(d.trace ?? []).map((t) => html`<li><strong>${t.step}</strong>: ${t.detail}</li>`)}</ol>
          </div>`
        : null
    }
  </section>`;
}
