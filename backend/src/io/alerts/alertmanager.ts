import { ReceiverError, type AlertEvent, type AlertReceiver } from './types.js';

/**
 * Where Grafana serves, as the start of a link a person opens: scheme, host and sub-path, without
 * the user and password the service may use to reach it (they would be shown to everyone the
 * alert reaches), and without a trailing slash (the links start with one). '' when unset.
 */
export function grafanaLinkBase(grafanaUrl: string | undefined): string {
  if (!grafanaUrl) return '';
  let u: URL;
  try {
    u = new URL(grafanaUrl);
  } catch {
    // Relative links then; the feedback poller, which reads the same URL, names the problem.
    return '';
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * Prometheus Alertmanager through its v2 API (POST /api/v2/alerts). Labels identify the alert
 * (alertname, detector, entity, severity), so Alertmanager groups and deduplicates them; a resolved
 * event is the same alert with endsAt set, which tells Alertmanager it is over. With Grafana's URL
 * the drill-down and generator links are absolute (an alert read in Slack or e-mail can be opened);
 * without it they stay relative to Grafana.
 */
export class AlertmanagerReceiver implements AlertReceiver {
  readonly name = 'alertmanager';
  private readonly grafanaUrl: string;

  constructor(
    private readonly url: string,
    grafanaUrl?: string,
  ) {
    this.grafanaUrl = grafanaLinkBase(grafanaUrl);
  }

  async send(events: AlertEvent[]): Promise<void> {
    const body = events.map((e) => ({
      labels: { alertname: 'IsoscopeAnomaly', detector: e.detector, entity: e.entity, severity: e.severity },
      annotations: {
        summary: `${e.detector} anomaly on ${e.entity || 'all'} (score ${e.score.toFixed(3)})`,
        description: e.topFeatures.map((f) => `${f.feature} ${(100 * f.share).toFixed(0)}%`).join(', '),
        drilldown: `${this.grafanaUrl}${e.link}`,
      },
      startsAt: new Date(e.startsAt).toISOString(),
      ...(e.endsAt !== undefined ? { endsAt: new Date(e.endsAt).toISOString() } : {}),
      generatorURL: `${this.grafanaUrl}${e.link}`,
    }));
    let res: Response;
    try {
      res = await fetch(`${this.url.replace(/\/+$/, '')}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new ReceiverError(`Alertmanager at ${this.url} is unreachable: ${(err as Error).message}`, false);
    }
    if (!res.ok)
      throw new ReceiverError(
        `Alertmanager answered ${res.status}: ${(await res.text()).slice(0, 300)}`,
        res.status >= 400 && res.status < 500,
      );
  }
}
