import { Counter, Gauge, Histogram, type Registry as PromRegistry } from 'prom-client';

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
  }
}
