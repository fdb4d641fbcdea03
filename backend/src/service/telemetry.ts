import { Counter, Gauge, Histogram, type Registry as PromRegistry } from 'prom-client';
import { HEALTH_STATES, type DetectorHealth } from './schemas/health.js';

/**
 * The service's own metrics, named as dashboards/model-operations.json reads them. One instance
 * per app (tests build many apps), registered on that app's Prometheus registry.
 */
export class Telemetry {
  readonly http: Histogram<'method' | 'route' | 'status_code'>;
  readonly scoringTick: Histogram;
  readonly scoringRows: Counter<'detector'>;
  readonly scoringLag: Gauge<'detector'>;
  readonly jobs: Counter<'kind' | 'outcome'>;
  readonly jobDuration: Histogram<'kind'>;
  readonly driftChecks: Counter<'detector'>;
  readonly driftConsensus: Counter<'detector'>;
  readonly alertDeliveries: Counter<'receiver' | 'outcome'>;
  readonly influxRequests: Histogram<'operation'>;
  readonly influxErrors: Counter<'operation'>;
  readonly resultsPending: Gauge;
  readonly overloaded: Counter;
  readonly schedulerLastPass: Gauge;
  readonly scoringFailing: Gauge<'detector'>;
  readonly scoringFailures: Counter<'detector'>;
  readonly scoringAnomalies: Counter<'detector'>;
  readonly detectorLag: Gauge<'detector'>;
  readonly detectorScoredTo: Gauge<'detector'>;
  readonly detectorState: Gauge<'detector' | 'state'>;
  readonly detectorTrainingFailed: Gauge<'detector'>;
  readonly detectorDrifted: Gauge<'detector'>;
  readonly detectorEntities: Gauge<'detector' | 'scored'>;
  readonly feedbackPolls: Counter<'outcome'>;
  readonly feedbackVerdicts: Counter;

  constructor(registry: PromRegistry) {
    const registers = [registry];
    this.http = new Histogram({
      name: 'isoscope_http_request_duration_seconds',
      help: 'HTTP request duration by route and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.scoringTick = new Histogram({
      name: 'isoscope_scoring_tick_duration_seconds',
      help: 'Duration of one scoring pass over the detectors',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
      registers,
    });
    this.scoringRows = new Counter({
      name: 'isoscope_scoring_rows_total',
      help: 'Rows scored and written back',
      labelNames: ['detector'],
      registers,
    });
    this.scoringLag = new Gauge({
      name: 'isoscope_scoring_lag_seconds',
      help: 'How far behind real time the last scored interval ends',
      labelNames: ['detector'],
      registers,
    });
    this.jobs = new Counter({
      name: 'isoscope_training_jobs_total',
      help: 'Finished jobs by kind (training, backfill) and outcome',
      labelNames: ['kind', 'outcome'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'isoscope_job_duration_seconds',
      help: 'Job duration by kind',
      labelNames: ['kind'],
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.driftChecks = new Counter({
      name: 'isoscope_drift_checks_total',
      help: 'Drift checks run',
      labelNames: ['detector'],
      registers,
    });
    this.driftConsensus = new Counter({
      name: 'isoscope_drift_consensus_total',
      help: 'Drift checks whose consensus said drifted',
      labelNames: ['detector'],
      registers,
    });
    this.alertDeliveries = new Counter({
      name: 'isoscope_alert_deliveries_total',
      help: 'Alert deliveries by receiver and outcome',
      labelNames: ['receiver', 'outcome'],
      registers,
    });
    this.influxRequests = new Histogram({
      name: 'isoscope_influx_request_duration_seconds',
      help: 'InfluxDB request duration by operation',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.influxErrors = new Counter({
      name: 'isoscope_influx_errors_total',
      help: 'InfluxDB requests that failed, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.resultsPending = new Gauge({
      name: 'isoscope_results_pending',
      help: 'Result lines queued for InfluxDB (they grow while it is down)',
      registers,
    });
    this.overloaded = new Counter({
      name: 'isoscope_http_overloaded_total',
      help: 'API requests answered 503 at once because the event loop lagged (ISOSCOPE_MAX_EVENT_LOOP_DELAY_MS)',
      registers,
    });
    this.schedulerLastPass = new Gauge({
      name: 'isoscope_scheduler_last_pass_timestamp_seconds',
      help: 'When the scoring scheduler last finished a pass over every detector (alert on time() minus this)',
      registers,
    });
    this.scoringFailing = new Gauge({
      name: 'isoscope_scoring_failing',
      help: '1 while a detector fails to score (its last try failed), 0 once it scores again',
      labelNames: ['detector'],
      registers,
    });
    this.scoringFailures = new Counter({
      name: 'isoscope_scoring_failures_total',
      help: 'Live scoring passes that failed (retried next tick), per detector',
      labelNames: ['detector'],
      registers,
    });
    this.feedbackPolls = new Counter({
      name: 'isoscope_grafana_feedback_polls_total',
      help: 'Polls of Grafana for annotations carrying a verdict tag, by outcome (ok, failed)',
      labelNames: ['outcome'],
      registers,
    });
    this.feedbackVerdicts = new Counter({
      name: 'isoscope_grafana_feedback_verdicts_total',
      help: 'Verdicts recorded from Grafana annotations (one per incident an annotation marks)',
      registers,
    });
    this.scoringAnomalies = new Counter({
      name: 'isoscope_scoring_anomalies_total',
      help: 'Production rows flagged anomalous by live scoring, per detector',
      labelNames: ['detector'],
      registers,
    });
    // Detector health, set from the registry at each scrape (updateHealth): right even when the
    // scheduler has stopped, which is what the stalled-scoring alert must see.
    this.detectorLag = new Gauge({
      name: 'isoscope_detector_lag_seconds',
      help: "How far behind now the detector's least advanced production entity is scored",
      labelNames: ['detector'],
      registers,
    });
    this.detectorScoredTo = new Gauge({
      name: 'isoscope_detector_scored_to_timestamp_seconds',
      help: "Up to when the detector's least advanced production entity is scored (Unix time)",
      labelNames: ['detector'],
      registers,
    });
    this.detectorState = new Gauge({
      name: 'isoscope_detector_state',
      help: `1 for the detector's health state, 0 for the others (${HEALTH_STATES.join(', ')})`,
      labelNames: ['detector', 'state'],
      registers,
    });
    this.detectorTrainingFailed = new Gauge({
      name: 'isoscope_detector_training_failed',
      help: "1 when the detector's last training job failed",
      labelNames: ['detector'],
      registers,
    });
    this.detectorDrifted = new Gauge({
      name: 'isoscope_detector_drifted_entities',
      help: 'Entities whose newest drift check said drifted',
      labelNames: ['detector'],
      registers,
    });
    this.detectorEntities = new Gauge({
      name: 'isoscope_detector_entities',
      help: 'Entities of the detector, scored in production or not',
      labelNames: ['detector', 'scored'],
      registers,
    });
  }

  /**
   * isoscope_scoring_failing and isoscope_scoring_failures_total from the one record of scoring
   * failures (Health), at each scrape: a detector that ever failed has both, the gauge 1 while its
   * last attempt failed.
   */
  updateScoringFailures(states: Array<{ detector: string; total: number; failing: boolean }>): void {
    this.scoringFailing.reset();
    this.scoringFailures.reset();
    for (const s of states) {
      this.scoringFailing.set({ detector: s.detector }, s.failing ? 1 : 0);
      this.scoringFailures.inc({ detector: s.detector }, s.total);
    }
  }

  /** The health gauges as of now: detectors gone since the last scrape disappear. */
  updateHealth(all: DetectorHealth[]): void {
    for (const g of [
      this.detectorLag,
      this.detectorScoredTo,
      this.detectorState,
      this.detectorTrainingFailed,
      this.detectorDrifted,
      this.detectorEntities,
    ])
      g.reset();
    for (const h of all) {
      const detector = h.detector;
      if (h.lagSeconds !== undefined) this.detectorLag.set({ detector }, h.lagSeconds);
      if (h.scoredTo !== undefined) this.detectorScoredTo.set({ detector }, Date.parse(h.scoredTo) / 1000);
      for (const state of HEALTH_STATES)
        this.detectorState.set({ detector, state }, state === h.state ? 1 : 0);
      this.detectorTrainingFailed.set({ detector }, h.lastTraining?.state === 'failed' ? 1 : 0);
      this.detectorDrifted.set({ detector }, h.drift.driftedEntities.length);
      const scored = h.entities.filter((e) => e.scoredTo !== undefined).length;
      this.detectorEntities.set({ detector, scored: 'yes' }, scored);
      this.detectorEntities.set({ detector, scored: 'no' }, h.entities.length - scored);
    }
  }
}
