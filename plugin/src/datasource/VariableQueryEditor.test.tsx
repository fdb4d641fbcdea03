import React from 'react';
import { act, fireEvent, render, screen } from '@testing-library/react';
import type { DataSourceInstanceSettings } from '@grafana/data';
import { fakeBackend } from '../test/fakeBackend';
import { fakeTemplates } from '../test/fakeTemplates';
import { values } from '../test/values';
import { choose } from '../test/select';
import { IsoscopeDataSource } from './datasource';
import type { IsoscopeDataSourceOptions } from './types';
import { VariableQueryEditor } from './VariableQueryEditor';

const ds = () =>
  new IsoscopeDataSource({
    uid: 'isoscope',
    url: '/p',
    jsonData: {},
    meta: {},
  } as unknown as DataSourceInstanceSettings<IsoscopeDataSourceOptions>);

describe('VariableQueryEditor', () => {
  beforeEach(() => {
    fakeTemplates({});
    fakeBackend(() => ({ data: values('cpu', 'mem') }));
  });

  it('builds entity queries for a detector, with a readable definition', async () => {
    const onChange = jest.fn();
    render(<VariableQueryEditor datasource={ds()} query={{ find: 'detectors' }} onChange={onChange} />);
    await act(async () => {});
    fireEvent.click(screen.getByText('Entities'));
    expect(onChange).toHaveBeenLastCalledWith({ find: 'entities' }, 'entities');
  });

  it('asks for the detector of an entities query and takes a choice', async () => {
    const onChange = jest.fn();
    render(<VariableQueryEditor datasource={ds()} query="entities" onChange={onChange} />);
    await act(async () => {});
    expect(screen.getByText('Choose a detector')).toBeInTheDocument();
    await choose('isoscope-variable-detector', 'mem');
    expect(onChange).toHaveBeenLastCalledWith({ find: 'entities', detector: 'mem' }, 'entities(mem)');
  });
});
