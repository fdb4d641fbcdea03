import React from 'react';
import { Badge, Button, Stack, Text } from '@grafana/ui';
import type { DriftReport, ModelVersion } from '../../api/types';
import { FeatureName } from '../../components/Words/Words';
import { featureLabel, formatTime } from '../../format';
import { changeLabel } from './metrics';

/** The latest drift report per entity: each feature's votes and test statistics. */
export function DriftTab({
  reports,
  canEdit,
  onRun,
  intervalSeconds,
  models = [],
}: {
  reports: DriftReport[];
  canEdit: boolean;
  onRun: () => void;
  intervalSeconds?: number;
  /** To name each report's version as its entity numbers it. */
  models?: ModelVersion[];
}) {
  return (
    <Stack direction="column" gap={2}>
      <div>
        <Button variant="secondary" icon="sync" onClick={onRun} disabled={!canEdit}>
          Check drift now
        </Button>
      </div>
      {reports.length === 0 && <Text color="secondary">No drift checks yet.</Text>}
      {reports.map((r) => (
        <section key={`${r.entity}-${r.at}`} aria-label={`Drift of ${r.entity}`}>
          <Stack alignItems="center" gap={1}>
            <Text element="h4">{r.entity || '(all entities)'}</Text>
            <Badge
              color={r.drifted ? 'red' : 'green'}
              text={
                r.drifted
                  ? `drifted: ${r.driftedFeatures.map((f) => featureLabel(f, intervalSeconds)).join('; ')}`
                  : 'no drift'
              }
            />
            <Text color="secondary">
              {changeLabel({ version: r.modelVersion }, models)}, {formatTime(r.from)} – {formatTime(r.to)}
            </Text>
          </Stack>
          <table className="filter-table">
            <thead>
              <tr>
                <th>Feature</th>
                <th>Votes (of 5)</th>
                <th>KS p-value</th>
                <th>PSI</th>
                <th>Jensen–Shannon</th>
                <th>Wasserstein (scaled)</th>
              </tr>
            </thead>
            <tbody>
              {[...r.features, ...(r.scoreDrift ? [{ ...r.scoreDrift, feature: 'score' }] : [])].map((f) => (
                <tr key={f.feature}>
                  <td>
                    <FeatureName name={f.feature} intervalSeconds={intervalSeconds} />{' '}
                    {f.drifted && <Badge color="red" text="drifted" />}
                  </td>
                  <td>{f.votes}</td>
                  <td>{f.ks.pvalue.toExponential(2)}</td>
                  <td>{f.psi.toFixed(3)}</td>
                  <td>{f.jensenShannon.toFixed(3)}</td>
                  <td>{f.wassersteinScaled.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </Stack>
  );
}
