import type { DetectorInput, DetectorSpec } from '../../api/types';

/** The editor's fields, flat and stringly where the user types, turned into a spec by `toInput`. */
export interface DetectorForm {
  name: string;
  kind: 'preset' | 'explicit';
  /** Empty: the service's database. */
  database: string;
  preset: string;
  measurement: string;
  fields: string;
  aggregate: 'mean' | 'max' | 'last' | 'increase';
  entityTag: string;
  /** One model trained on all the entities together, instead of one per entity. */
  shared: boolean;
  intervalSeconds: number;
  trainingWindowHours: number;
  promotion: DetectorSpec['schedule']['promotion'];
  minSeverity: DetectorSpec['alerting']['minSeverity'];
  /** Empty: the training grid chooses. */
  trees: string;
  /** Empty: the training grid chooses. */
  contamination: string;
  /** How the threshold is chosen at each training, or 'fixed' at `fixedThreshold`. */
  threshold: ThresholdPolicy | 'fixed';
  fixedThreshold: string;
  outOfRange: OutOfRange;
}

type Model = DetectorSpec['model'];
type ThresholdPolicy = NonNullable<Model['thresholdPolicy']>;
export type OutOfRange = NonNullable<Model['outOfRange']>;
/** What the service uses when a spec leaves these out; the spec then stays without them. */
export const SERVICE_DEFAULTS = { thresholdPolicy: 'alert-budget', outOfRange: 'isolate' } as const;

export const NEW_DETECTOR: DetectorForm = {
  name: '',
  kind: 'preset',
  database: '',
  preset: 'cpu',
  measurement: '',
  fields: '',
  aggregate: 'mean',
  entityTag: 'host',
  shared: false,
  intervalSeconds: 60,
  trainingWindowHours: 168,
  promotion: 'auto-if-better',
  minSeverity: 'low',
  trees: '',
  contamination: '',
  threshold: SERVICE_DEFAULTS.thresholdPolicy,
  fixedThreshold: '',
  outOfRange: SERVICE_DEFAULTS.outOfRange,
};

/** The service's defaults for the parts of a spec the editor does not show. */
export const DEFAULT_SPEC: Omit<DetectorSpec, 'source'> = {
  intervalSeconds: 60,
  features: {},
  model: {},
  alerting: { window: 5, cooldownMinutes: 30, minAnomalous: 3, minSeverity: 'low' },
  trainingWindowHours: 168,
  schedule: { scoreEverySeconds: 60, retrainOnDrift: true, driftCheckEveryHours: 6, promotion: 'auto-if-better' },
};

export function toForm(name: string, spec: DetectorSpec): DetectorForm {
  const s = spec.source;
  return {
    name,
    kind: 'preset' in s ? 'preset' : 'explicit',
    database: s.database ?? '',
    preset: 'preset' in s ? s.preset : '',
    measurement: 'preset' in s ? '' : s.measurement,
    fields: 'preset' in s ? '' : s.fields.map((f) => f.field).join(', '),
    aggregate: 'preset' in s ? 'mean' : ((s.fields[0]?.aggregate ?? 'mean') as DetectorForm['aggregate']),
    entityTag: s.entityTag ?? '',
    shared: spec.model.shared ?? false,
    intervalSeconds: spec.intervalSeconds,
    trainingWindowHours: spec.trainingWindowHours,
    promotion: spec.schedule.promotion,
    minSeverity: spec.alerting.minSeverity,
    trees: spec.model.trees === undefined ? '' : String(spec.model.trees),
    contamination: spec.model.contamination === undefined ? '' : String(spec.model.contamination),
    threshold:
      spec.model.threshold !== undefined ? 'fixed' : (spec.model.thresholdPolicy ?? SERVICE_DEFAULTS.thresholdPolicy),
    fixedThreshold: spec.model.threshold === undefined ? '' : String(spec.model.threshold),
    outOfRange: spec.model.outOfRange ?? SERVICE_DEFAULTS.outOfRange,
  };
}

/** What is wrong with the form, field by field; empty when it can be saved. */
export function validate(form: DetectorForm): Partial<Record<keyof DetectorForm, string>> {
  const errors: Partial<Record<keyof DetectorForm, string>> = {};
  if (!/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/.test(form.name)) {
    errors.name = 'Letters, digits, spaces, dots, dashes and underscores, starting with a letter or digit';
  }
  if (form.kind === 'preset' && !form.preset) {
    errors.preset = 'Choose a Telegraf measurement';
  }
  if (form.kind === 'explicit') {
    if (!form.measurement.trim()) {
      errors.measurement = 'The measurement to read, e.g. cpu';
    }
    if (fieldList(form.fields).length === 0) {
      errors.fields = 'At least one field, comma-separated';
    }
  }
  if (!Number.isInteger(form.intervalSeconds) || form.intervalSeconds < 1 || form.intervalSeconds > 86400) {
    errors.intervalSeconds = 'Whole seconds from 1 to 86400';
  }
  if (
    !Number.isInteger(form.trainingWindowHours) ||
    form.trainingWindowHours < 1 ||
    form.trainingWindowHours > 24 * 366
  ) {
    errors.trainingWindowHours = 'Whole hours from 1 to 8784';
  }
  const trees = Number(form.trees);
  if (form.trees.trim() && !(Number.isInteger(trees) && trees >= 1 && trees <= 10000)) {
    errors.trees = 'Whole trees from 1 to 10000, or empty to let training choose';
  }
  const contamination = Number(form.contamination);
  if (form.contamination.trim() && !(contamination > 0 && contamination <= 0.5)) {
    errors.contamination = 'A share above 0 and at most 0.5 (0.01 = 1 %), or empty to let training choose';
  }
  const fixed = Number(form.fixedThreshold);
  if (form.threshold === 'fixed' && !(form.fixedThreshold.trim() && fixed > 0 && fixed < 1)) {
    errors.fixedThreshold = 'A score between 0 and 1 (scores above 0.5 lean anomalous)';
  }
  return errors;
}

const fieldList = (text: string) =>
  text
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);

/** The spec the service takes, keeping whatever the editor does not show from `base`. */
export function toInput(form: DetectorForm, base?: DetectorSpec): DetectorInput {
  const start = base ?? { ...DEFAULT_SPEC, source: { preset: form.preset } };
  const entityTag = form.entityTag.trim() ? { entityTag: form.entityTag.trim() } : {};
  const database = form.database.trim() ? { database: form.database.trim() } : {};
  // What the form does not show of a saved source (tag filters, query language) stays as it was.
  const { tags, language } = base?.source ?? {};
  const hidden = { ...(tags ? { tags } : {}), ...(language ? { language } : {}) };
  const retentionPolicy = base && 'measurement' in base.source ? base.source.retentionPolicy : undefined;
  const source: DetectorSpec['source'] =
    form.kind === 'preset'
      ? { preset: form.preset, ...database, ...entityTag, ...hidden }
      : {
          ...database,
          ...hidden,
          ...(retentionPolicy ? { retentionPolicy } : {}),
          measurement: form.measurement.trim(),
          fields: fieldList(form.fields).map((field) => ({ field, aggregate: form.aggregate })),
          ...entityTag,
        };
  return {
    name: form.name.trim(),
    spec: {
      ...start,
      source,
      intervalSeconds: form.intervalSeconds,
      trainingWindowHours: form.trainingWindowHours,
      model: toModel(form, start.model),
      schedule: { ...start.schedule, promotion: form.promotion },
      alerting: { ...start.alerting, minSeverity: form.minSeverity },
    },
  };
}

/**
 * The model part of the spec: what the form shows is set, or left out when it is empty or the
 * service's default (so a spec says only what someone chose); the rest (seed, maxSamples) is kept.
 */
function toModel(form: DetectorForm, base: Model): Model {
  const { trees, contamination, thresholdPolicy, threshold, outOfRange, shared, ...kept } = base;
  return {
    ...kept,
    ...(form.shared ? { shared: true } : {}),
    ...(form.trees.trim() ? { trees: Number(form.trees) } : {}),
    ...(form.contamination.trim() ? { contamination: Number(form.contamination) } : {}),
    ...(form.threshold === 'fixed'
      ? { threshold: Number(form.fixedThreshold) }
      : form.threshold !== SERVICE_DEFAULTS.thresholdPolicy
        ? { thresholdPolicy: form.threshold }
        : {}),
    ...(form.outOfRange !== SERVICE_DEFAULTS.outOfRange ? { outOfRange: form.outOfRange } : {}),
  };
}
