import type { Logger } from '@catchment/core';

export const NOTIFY_EVENTS = [
  'started',
  'escalated',
  'approval-needed',
  'refused',
  'mitigated',
  'recovering',
  'resolved',
  'aborted',
  'message',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export interface Notification {
  event: NotifyEvent;
  text: string;
  run: { id: number; playbook: string; edge: string | null; state: string; mode: string };
  details?: Record<string, unknown>;
}

const ICON: Record<NotifyEvent, string> = {
  started: ':rotating_light:',
  escalated: ':arrow_double_up:',
  'approval-needed': ':raising_hand:',
  refused: ':no_entry:',
  mitigated: ':large_yellow_circle:',
  recovering: ':arrow_down_small:',
  resolved: ':white_check_mark:',
  aborted: ':octagonal_sign:',
  message: ':speech_balloon:',
};

/**
 * Posts run events to a chat webhook. The body carries `text` (what Slack and
 * Mattermost incoming webhooks display) and the structured event under `catchment`
 * (ignored by chat tools, useful to anything else). Delivery is best effort with a
 * bounded retry: a chat outage never holds up a run.
 */
export class Notifier {
  readonly url: string | undefined;
  readonly #logger: Logger;
  readonly #pending = new Set<Promise<void>>();
  readonly #timeoutMs: number;
  readonly #retries: number;
  sent = 0;
  failed = 0;

  constructor(opts: { url?: string | undefined; logger: Logger; timeoutMs?: number; retries?: number }) {
    this.url = opts.url;
    this.#logger = opts.logger;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#retries = opts.retries ?? 2;
  }

  static body(n: Notification): Record<string, unknown> {
    const where = n.run.edge ? ` on ${n.run.edge}` : '';
    return {
      username: 'Catchment',
      text: `${ICON[n.event]} [${n.event}] ${n.run.playbook}${where} (run ${n.run.id}, ${n.run.mode}): ${n.text}`,
      catchment: n,
    };
  }

  notify(n: Notification): void {
    this.#logger.info({ event: n.event, run: n.run.id, text: n.text }, 'run event');
    if (!this.url) return;
    const p = this.#deliver(this.url, Notifier.body(n)).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  async #deliver(url: string, body: Record<string, unknown>): Promise<void> {
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        await res.arrayBuffer();
        if (res.ok) {
          this.sent++;
          return;
        }
        this.#logger.warn({ status: res.status, attempt }, 'notification webhook refused the message');
      } catch (err) {
        this.#logger.warn({ err: (err as Error).message, attempt }, 'notification webhook unreachable');
      }
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
    this.failed++;
  }

  /** Waits for the messages in flight (on shutdown, and in tests). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }
}
