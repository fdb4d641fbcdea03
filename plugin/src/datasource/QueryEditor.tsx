import React from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { Alert, InlineField, InlineFieldRow, RadioButtonGroup, Select } from '@grafana/ui';
import type { IsoscopeDataSource } from './datasource';
import {
  ANNOTATION_KIND_OPTIONS,
  RETURN_OPTIONS,
  migrateQuery,
  type IsoscopeDataSourceOptions,
  type IsoscopeQuery,
} from './types';
import { useVariableOptions, withCurrent } from './useOptions';

type Props = QueryEditorProps<IsoscopeDataSource, IsoscopeQuery, IsoscopeDataSourceOptions>;

const STAGE_OPTIONS: Array<SelectableValue<'production' | 'staging'>> = [
  { label: 'Production', value: 'production' },
  { label: 'Staging (shadow)', value: 'staging' },
];

/** Detector, entity and what to return; in the annotation editor detector, entity and anomalies or incidents. */
export function QueryEditor({ datasource, query: saved, onChange, onRunQuery }: Props) {
  const query = migrateQuery(saved as IsoscopeQuery & Record<string, unknown>);
  const detectors = useVariableOptions(datasource.client, 'detectors');
  const entities = useVariableOptions(datasource.client, 'entities', query.detector);
  const annotations = query.return === 'annotations';
  const allowsAllDetectors = annotations || query.return === 'anomalies';

  const update = (patch: Partial<IsoscopeQuery>) => {
    onChange({ ...query, ...patch });
    onRunQuery();
  };

  return (
    <>
      {detectors.error && (
        <Alert title="Cannot list detectors" severity="error">
          {detectors.error}
        </Alert>
      )}
      <InlineFieldRow>
        <InlineField label="Detector" labelWidth={12} tooltip="Which detector's results">
          <Select
            inputId="isoscope-detector"
            width={28}
            isLoading={detectors.loading}
            options={withCurrent(
              allowsAllDetectors ? [{ label: 'All detectors', value: '' }, ...detectors.options] : detectors.options,
              query.detector
            )}
            value={query.detector}
            allowCustomValue
            placeholder="Choose a detector"
            onChange={(v) => update({ detector: v.value ?? '', entity: '' })}
          />
        </InlineField>
        <InlineField label="Entity" labelWidth={10} tooltip="A host (or other entity); a variable; empty for all">
          <Select
            inputId="isoscope-entity"
            width={28}
            isLoading={entities.loading}
            options={withCurrent([{ label: 'All entities', value: '' }, ...entities.options], query.entity)}
            value={query.entity}
            allowCustomValue
            onChange={(v) => update({ entity: v.value ?? '' })}
          />
        </InlineField>
        {!annotations && (
          <InlineField label="Model" labelWidth={8}>
            <Select
              inputId="isoscope-stage"
              width={20}
              options={STAGE_OPTIONS}
              value={query.stage ?? 'production'}
              onChange={(v) => update({ stage: v.value === 'staging' ? 'staging' : undefined })}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      {annotations && (
        <InlineFieldRow>
          <InlineField label="Show" labelWidth={12} tooltip="Runs of flagged moments, or incidents as regions">
            <RadioButtonGroup
              options={ANNOTATION_KIND_OPTIONS}
              value={query.kind ?? 'anomalies'}
              onChange={(value) => update({ kind: value })}
            />
          </InlineField>
        </InlineFieldRow>
      )}
      {!annotations && (
        <InlineFieldRow>
          <InlineField label="Return" labelWidth={12}>
            <RadioButtonGroup
              options={RETURN_OPTIONS}
              value={query.return}
              onChange={(value) => update({ return: value })}
            />
          </InlineField>
        </InlineFieldRow>
      )}
    </>
  );
}
