import React from 'react';
import type { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup, Select } from '@grafana/ui';
import type { IsoscopeDataSource } from './datasource';
import { migrateVariableQuery, type IsoscopeVariableQuery } from './types';
import { useVariableOptions, withCurrent } from './useOptions';

interface Props {
  datasource: IsoscopeDataSource;
  query: IsoscopeVariableQuery | string;
  onChange: (query: IsoscopeVariableQuery, definition: string) => void;
}

const FIND_OPTIONS: Array<SelectableValue<IsoscopeVariableQuery['find']>> = [
  { label: 'Detectors', value: 'detectors' },
  { label: 'Entities', value: 'entities', description: "The hosts a detector's models watch" },
  { label: 'Fields', value: 'fields', description: 'The metrics a detector reads' },
];

/** Template variables: detectors, or a detector's entities or fields. */
export function VariableQueryEditor({ datasource, query: saved, onChange }: Props) {
  const query = migrateVariableQuery(saved);
  const detectors = useVariableOptions(datasource.client, 'detectors');
  const change = (q: IsoscopeVariableQuery) => onChange(q, q.detector ? `${q.find}(${q.detector})` : q.find);

  return (
    <InlineFieldRow>
      <InlineField label="List" labelWidth={10}>
        <RadioButtonGroup
          options={FIND_OPTIONS}
          value={query.find}
          onChange={(find) => change(find === 'detectors' ? { find } : { ...query, find })}
        />
      </InlineField>
      {query.find !== 'detectors' && (
        <InlineField label="Detector" labelWidth={12} invalid={!query.detector} error="Choose a detector">
          <Select
            inputId="isoscope-variable-detector"
            width={28}
            options={withCurrent(detectors.options, query.detector ?? '')}
            value={query.detector}
            allowCustomValue
            onChange={(v) => change({ ...query, detector: v.value ?? '' })}
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
