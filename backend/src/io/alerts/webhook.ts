import { createHmac } from 'node:crypto';
import { grafanaLinkBase } from './alertmanager.js';
import { ReceiverError, type AlertEvent, type AlertReceiver } from './types.js';

/** The signature a webhook receiver checks: hex HMAC-SHA256 of the raw body with the shared secret. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * A generic JSON webhook: POST { "alerts": [...] } with `X-Isoscope-Signature: sha256=<hmac>` so the
 * receiver can tell the request came from Isoscope and was not altered. With Grafana's URL each
 * alert's `link` is absolute, as Alertmanager's drill-down is; without it, relative to Grafana.
 */
export class WebhookReceiver implements AlertReceiver {
  readonly name = 'webhook';
  private readonly grafanaUrl: string;

  constructor(
    private readonly url: string,
    private readonly secret: string,
    grafanaUrl?: string,
  ) {
    this.grafanaUrl = grafanaLinkBase(grafanaUrl);
  }

  async send(events: AlertEvent[]): Promise<void> {
    const body = JSON.stringify({
      alerts: events.map((e) => ({
        ...e,
        link: `${this.grafanaUrl}${e.link}`,
        startsAt: new Date(e.startsAt).toISOString(),
        ...(e.endsAt !== undefined ? { endsAt: new Date(e.endsAt).toISOString() } : {}),
      })),
    });
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-isoscope-signature': signature(this.secret, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new ReceiverError(`webhook ${this.url} is unreachable: ${(err as Error).message}`, false);
    }
    if (!res.ok)
      throw new ReceiverError(`webhook answered ${res.status}`, res.status >= 400 && res.status < 500);
  }
}
