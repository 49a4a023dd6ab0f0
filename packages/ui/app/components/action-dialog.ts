import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { html } from '../html.ts';
import { store, useStore } from '../store.ts';
import type { DryRun, Refusal } from '../types.ts';
import { ChangeList } from './diff.ts';
import { PredictedLoads } from './predicted.ts';

export interface ParamField {
  name: string;
  label: string;
  /** number: a number; list: comma-separated names; text: as typed. */
  type: 'number' | 'list' | 'text';
  value: string;
  hint?: string;
}

export interface ActionSpec {
  /** Button and dialog title, e.g. "Drain lhr". */
  title: string;
  /** POST path, e.g. /v1/edges/lhr/drain. */
  path: string;
  /** Creating actions take an expiry; undoing ones (undrain, revert...) do not. */
  expiry: boolean;
  /** Whether the API takes dryRun (actions do; run decisions do not). */
  dryRun: boolean;
  params?: ParamField[];
  /** Shown under the title: what the action does. */
  help?: string;
  danger?: boolean;
  /** Fields the request body always carries (e.g. kind and edge for POST /v1/actions). */
  extra?: Record<string, unknown>;
}

function paramsOf(fields: ParamField[], values: Record<string, string>): Record<string, unknown> | undefined {
  if (fields.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = (values[f.name] ?? '').trim();
    if (v === '') continue;
    out[f.name] =
      f.type === 'number'
        ? Number(v)
        : f.type === 'list'
          ? v
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean)
          : v;
  }
  return out;
}

function problemText(err: unknown): string {
  if (err instanceof ApiError) {
    const errors = (err.problem?.errors as { path: string; message: string }[] | undefined) ?? [];
    return [`${err.code}: ${err.message}`, ...errors.map((e) => `${e.path}: ${e.message}`)].join('\n');
  }
  return String(err);
}

/**
 * The one way the dashboard changes anything: a button that opens a dialog asking for a
 * reason (and an expiry for new actions), runs the API's dry run and shows its diff,
 * refusal and predicted loads, and only then lets the operator confirm.
 */
export function ActionButton({ spec, onDone }: { spec: ActionSpec; onDone?: () => void }) {
  return html`<button type="button" class=${spec.danger ? 'danger' : ''} onClick=${() => store.set({ dialog: { spec, onDone } })}>
    ${spec.title}
  </button>`;
}

/**
 * The open dialog lives here, at the top of the page, not under its button: the button may
 * disappear while the dialog is open (a run that is approved no longer offers Approve).
 */
export function DialogHost() {
  const { dialog } = useStore();
  if (!dialog) return null;
  return html`<${ActionDialog} key=${dialog.spec.path} spec=${dialog.spec} onDone=${dialog.onDone}
    onClose=${() => store.set({ dialog: null })} />`;
}

type Phase =
  | { step: 'form' }
  | { step: 'previewing' }
  | { step: 'preview'; result: DryRun }
  | { step: 'applying' }
  | { step: 'done'; message: string };

function ActionDialog({ spec, onClose, onDone }: { spec: ActionSpec; onClose: () => void; onDone?: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [ttl, setTtl] = useState('1h');
  const [force, setForce] = useState(false);
  const [values, setValues] = useState<Record<string, string>>(
    Object.fromEntries((spec.params ?? []).map((p) => [p.name, p.value])),
  );
  const [phase, setPhase] = useState<Phase>({ step: 'form' });
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);

  const body = (dryRun: boolean) => ({
    ...(spec.extra ?? {}),
    reason: reason.trim(),
    ...(spec.expiry && ttl.trim() ? { ttl: ttl.trim() } : {}),
    ...(spec.dryRun ? { dryRun } : {}),
    ...(force && !dryRun ? { force: true } : {}),
    ...(paramsOf(spec.params ?? [], values) ? { params: paramsOf(spec.params ?? [], values) } : {}),
  });

  const apply = async () => {
    setPhase({ step: 'applying' });
    setError(null);
    try {
      const res = await api<{ snapshotVersion?: number | null }>(spec.path, { method: 'POST', body: body(false) });
      setPhase({
        step: 'done',
        message: res?.snapshotVersion ? `Done: snapshot v${res.snapshotVersion} published.` : 'Done.',
      });
      store.changed();
      onDone?.();
    } catch (err) {
      setError(problemText(err));
      setPhase({ step: 'form' });
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!reason.trim()) {
      setError('A reason is required: it goes into the audit log.');
      return;
    }
    if (!spec.dryRun) return apply();
    setPhase({ step: 'previewing' });
    setError(null);
    try {
      const result = await api<DryRun>(spec.path, { method: 'POST', body: body(true) });
      setPhase({ step: 'preview', result });
    } catch (err) {
      setError(problemText(err));
      setPhase({ step: 'form' });
    }
  };

  const close = () => {
    ref.current?.close();
    onClose();
  };
  const id = spec.path.replace(/[^a-z0-9]+/gi, '-');
  const refusal: Refusal | null = phase.step === 'preview' ? phase.result.refusal : null;
  const editing = phase.step === 'form' || phase.step === 'previewing';

  return html`<dialog ref=${ref} class="action-dialog" aria-labelledby=${`${id}-title`} onCancel=${close} data-testid="action-dialog">
    <form onSubmit=${submit}>
      <h2 id=${`${id}-title`}>${spec.title}</h2>
      ${spec.help ? html`<p class="muted">${spec.help}</p>` : null}
      <label for=${`${id}-reason`}>Reason (recorded in the audit log)</label>
      <input id=${`${id}-reason`} name="reason" required maxlength="500" value=${reason}
        disabled=${!editing} onInput=${(e: Event) => setReason((e.target as HTMLInputElement).value)} />
      ${
        spec.expiry
          ? html`<label for=${`${id}-ttl`}>Expires after (e.g. 30m, 2h; empty: no expiry)</label>
            <input id=${`${id}-ttl`} name="ttl" value=${ttl} disabled=${!editing}
              onInput=${(e: Event) => setTtl((e.target as HTMLInputElement).value)} />`
          : null
      }
      ${(spec.params ?? []).map(
        (p) => html`<label for=${`${id}-${p.name}`}>${p.label}</label>
          <input id=${`${id}-${p.name}`} name=${p.name} value=${values[p.name]} disabled=${!editing}
            inputmode=${p.type === 'number' ? 'decimal' : 'text'}
            onInput=${(e: Event) => setValues({ ...values, [p.name]: (e.target as HTMLInputElement).value })} />
          ${p.hint ? html`<small class="muted">${p.hint}</small>` : null}`,
      )}
      ${error ? html`<pre class="error" role="alert">${error}</pre>` : null}
      ${
        phase.step === 'preview'
          ? html`<section class="preview" data-testid="dry-run" aria-label="dry run">
              <h3>Dry run: what would change</h3>
              <${ChangeList} changes=${phase.result.diff} label="dry-run diff" />
              <${PredictedLoads} loads=${phase.result.predictedLoads} />
              ${
                refusal
                  ? html`<div class="refusal" role="alert">
                      <strong>Refused by rule ${refusal.rule}:</strong> ${refusal.reason}
                      <label class="inline"><input type="checkbox" checked=${force}
                        onChange=${(e: Event) => setForce((e.target as HTMLInputElement).checked)} />
                        Override the safety rule (audited as forced)</label>
                    </div>`
                  : null
              }
            </section>`
          : null
      }
      ${phase.step === 'done' ? html`<p role="status" class="ok">${phase.message}</p>` : null}
      <div class="buttons">
        ${
          editing
            ? html`<button type="submit" disabled=${phase.step === 'previewing'}>
                ${spec.dryRun ? 'Preview changes' : 'Confirm'}
              </button>`
            : null
        }
        ${
          phase.step === 'preview'
            ? html`<button type="button" class=${spec.danger ? 'danger' : 'primary'}
                disabled=${refusal !== null && !force} onClick=${apply}>Confirm</button>
              <button type="button" onClick=${() => setPhase({ step: 'form' })}>Edit</button>`
            : null
        }
        <button type="button" onClick=${close}>${phase.step === 'done' ? 'Close' : 'Cancel'}</button>
      </div>
    </form>
  </dialog>`;
}
