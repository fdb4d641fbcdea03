import { PanelPlugin } from '@grafana/data';
import { AnomalyTimeline } from './AnomalyTimeline';
import { DEFAULT_OPTIONS, type TimelineOptions } from './types';

export const plugin = new PanelPlugin<TimelineOptions>(AnomalyTimeline).setPanelOptions((builder) =>
  builder
    .addBooleanSwitch({
      path: 'showScoreStrip',
      name: 'Score strip',
      description: 'The anomaly score (0…1) and the threshold under each chart',
      defaultValue: DEFAULT_OPTIONS.showScoreStrip,
    })
    .addSliderInput({
      path: 'scoreStripHeight',
      name: 'Score strip height',
      defaultValue: DEFAULT_OPTIONS.scoreStripHeight,
      settings: { min: 24, max: 200, step: 4 },
      showIf: (o) => o.showScoreStrip,
    })
    .addBooleanSwitch({
      path: 'showExpected',
      name: 'Expected range',
      description: "Shade the band the model's training data spanned, when the query returns it",
      defaultValue: DEFAULT_OPTIONS.showExpected,
    })
    .addNumberInput({
      path: 'maxEntities',
      name: 'Entities',
      description: 'At most this many entities, the most anomalous first',
      defaultValue: DEFAULT_OPTIONS.maxEntities,
      settings: { min: 1, max: 20, integer: true },
    })
);
