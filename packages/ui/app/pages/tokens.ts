import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { ago, time } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../live.ts';
import { useStore } from '../store.ts';

interface TokenInfo {
  id: number;
  name: string;
  role: string;
  scope: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const ROLES = ['viewer', 'operator', 'admin', 'agent'] as const;

/**
 * API tokens, for admins (the page is not offered to other roles, and the API refuses them
 * anyway): the list, a form that creates one and shows its secret once, and revoke.
 */
export function TokensPage() {
  const { me } = useStore();
  const list = usePoll<{ items: TokenInfo[] }>(me?.role === 'admin' ? '/v1/tokens?limit=500' : null, 5000);
  const [name, setName] = useState('');
  const [role, setRole] = useState<string>('viewer');
  const [scope, setScope] = useState('');
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  if (me?.role !== 'admin')
    return html`<h1>Tokens</h1><p data-testid="tokens-forbidden">Only admins manage tokens; your role is ${me?.role}.</p>`;
  const fail = (err: unknown) => setMessage(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
  const create = async (e: Event) => {
    e.preventDefault();
    setMessage(null);
    try {
      const body: Record<string, string> = { name: name.trim(), role };
      if (scope.trim()) body.scope = scope.trim();
      const made = await api<{ token: string }>('/v1/tokens', { method: 'POST', body });
      setSecret({ name: body.name!, token: made.token });
      setName('');
      setScope('');
      list.reload();
    } catch (err) {
      fail(err);
    }
  };
  const revoke = async (t: TokenInfo) => {
    const reason = prompt(`Revoke token ${t.name}? Reason (audited):`);
    if (!reason) return;
    try {
      await api(`/v1/tokens/${t.id}`, { method: 'DELETE', body: { reason } });
      list.reload();
    } catch (err) {
      fail(err);
    }
  };
  const items = list.data?.items ?? [];
  return html`<section aria-labelledby="tokens-title">
    <h1 id="tokens-title">Tokens</h1>
    <form class="inline" onSubmit=${create} aria-label="create a token">
      <label>Name <input name="token-name" required pattern="[a-z0-9][a-z0-9_.\\-]{0,62}" value=${name}
        onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} /></label>
      <label>Role <select name="token-role" value=${role} onChange=${(e: Event) => setRole((e.target as HTMLSelectElement).value)}>
        ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
      </select></label>
      <label>Scope (agents) <input name="token-scope" value=${scope} placeholder="edge:lhr"
        onInput=${(e: Event) => setScope((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Create token</button>
    </form>
    ${message ? html`<p role="alert" class="warn" data-testid="tokens-error">${message}</p>` : null}
    ${
      secret
        ? html`<div role="status" class="secret" data-testid="token-secret">
            <p>Token <strong>${secret.name}</strong> created. Copy it now: it is shown this once and never again.</p>
            <code>${secret.token}</code>
            <button type="button" onClick=${() => setSecret(null)}>I have copied it</button>
          </div>`
        : null
    }
    <table data-testid="tokens" aria-label="tokens">
      <thead><tr><th scope="col">id</th><th scope="col">name</th><th scope="col">role</th><th scope="col">scope</th><th scope="col">created</th><th scope="col">last used</th><th scope="col">state</th><th scope="col">revoke</th></tr></thead>
      <tbody>${items.map(
        (t) => html`<tr data-token=${t.name}>
          <td>${t.id}</td><th scope="row">${t.name}</th><td>${t.role}</td><td>${t.scope ?? '–'}</td>
          <td title=${time(t.createdAt)}>${ago(t.createdAt)}</td><td>${t.lastUsedAt ? ago(t.lastUsedAt) : 'never'}</td>
          <td>${t.revokedAt ? `revoked ${ago(t.revokedAt)}` : t.expiresAt && Date.parse(t.expiresAt) < Date.now() ? 'expired' : 'active'}</td>
          <td>${t.revokedAt ? null : html`<button type="button" class="danger" onClick=${() => revoke(t)}>Revoke ${t.name}</button>`}</td>
        </tr>`,
      )}</tbody>
    </table>
  </section>`;
}
