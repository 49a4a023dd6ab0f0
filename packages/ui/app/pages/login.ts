import { useState } from 'preact/hooks';
import { ApiError, api, token } from '../api.ts';
import { html } from '../html.ts';
import { store, useStore } from '../store.ts';
import type { Me } from '../types.ts';

/** Checks a token against /v1/whoami and keeps it in session storage (gone when the tab closes). */
export async function signIn(text: string): Promise<Me> {
  token.set(text);
  try {
    const me = await api<Me>('/v1/whoami');
    if (me.role === 'agent') throw new ApiError(403, 'FORBIDDEN', 'agent tokens are for DNS servers and edge agents');
    store.set({ me, loginMessage: null });
    return me;
  } catch (err) {
    token.clear();
    throw err;
  }
}

export function LoginPage() {
  const { loginMessage } = useStore();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      await signIn(text.trim());
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  };
  return html`<main class="login">
    <h1>Catchment</h1>
    <form onSubmit=${submit} aria-label="sign in">
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="off" required value=${text}
        onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)} />
      <p class="muted">The token stays in this tab's session storage only. <code>catchment token create --role viewer</code> makes one.</p>
      ${error || loginMessage ? html`<p class="error" role="alert">${error ?? loginMessage}</p>` : null}
      <button type="submit" class="primary">Sign in</button>
    </form>
  </main>`;
}
