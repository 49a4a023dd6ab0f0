import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { token } from './api.ts';
import { DialogHost } from './components/action-dialog.ts';
import { Banner } from './components/banner.ts';
import { html } from './html.ts';
import { followSnapshots } from './live.ts';
import { ChangesPage } from './pages/changes.ts';
import { ConsumersPage } from './pages/consumers.ts';
import { EdgePage } from './pages/edge.ts';
import { ExplainPage } from './pages/explain.ts';
import { LoginPage, signIn } from './pages/login.ts';
import { MapPage } from './pages/map.ts';
import { RunsPage } from './pages/runs.ts';
import { TokensPage } from './pages/tokens.ts';
import { store, useStore } from './store.ts';
import './style.css';

/** Hash routes: #/, #/edges/<name>, #/runs, #/runs/<id>, #/explain, #/changes, #/consumers, #/tokens (admins). */
function useRoute(): string[] {
  const parse = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(parse());
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

const NAV: [string, string][] = [
  ['#/', 'Map'],
  ['#/runs', 'Runs'],
  ['#/explain', 'Explain'],
  ['#/changes', 'Changes'],
  ['#/consumers', 'Consumers'],
];

function Page({ route }: { route: string[] }) {
  const [top, arg] = route;
  if (!top) return html`<${MapPage} />`;
  if (top === 'edges' && arg) return html`<${EdgePage} name=${arg} />`;
  if (top === 'runs') return html`<${RunsPage} id=${arg ? Number(arg) : undefined} />`;
  if (top === 'explain') return html`<${ExplainPage} />`;
  if (top === 'changes') return html`<${ChangesPage} />`;
  if (top === 'consumers') return html`<${ConsumersPage} />`;
  if (top === 'tokens') return html`<${TokensPage} />`;
  return html`<h1>No such page</h1><p><a href="#/">Map</a></p>`;
}

function App() {
  const { me } = useStore();
  const route = useRoute();
  const [checking, setChecking] = useState(!!token.get());
  useEffect(() => {
    const t = token.get();
    if (t && !me)
      signIn(t)
        .catch(() => undefined)
        .finally(() => setChecking(false));
  }, []);
  useEffect(() => (me ? followSnapshots() : undefined), [me?.name]);
  if (checking && !me) return html`<p role="status">Signing in…</p>`;
  if (!me) return html`<${Banner} /><${LoginPage} />`;
  const current = `#/${route[0] ?? ''}`;
  const signOut = () => {
    token.clear();
    store.set({ me: null, snapshot: null, loginMessage: null, dialog: null });
  };
  return html`<header class="top">
      <a class="brand" href="#/">Catchment</a>
      <nav aria-label="pages">
        ${[...NAV, ...(me.role === 'admin' ? ([['#/tokens', 'Tokens']] as [string, string][]) : [])].map(([href, label]) => html`<a href=${href} aria-current=${href === current || (href === '#/' && current === '#/edges') ? 'page' : undefined}>${label}</a>`)}
      </nav>
      <span class="who" data-testid="who">${me.name} (${me.role})</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <${Banner} />
    <main id="main"><${Page} route=${route} /></main>
    <${DialogHost} />`;
}

render(html`<${App} />`, document.getElementById('root')!);
