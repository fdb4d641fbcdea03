import React from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import type { DataSourceInstanceSettings } from '@grafana/data';
import { fakeBackend } from '../test/fakeBackend';
import { choose } from '../test/select';
import { fakeTemplates } from '../test/fakeTemplates';
import { values } from '../test/values';
import { IsoscopeDataSource } from './datasource';
import { QueryEditor } from './QueryEditor';
import type { IsoscopeDataSourceOptions, IsoscopeQuery } from './types';

const ds = () =>
  new IsoscopeDataSource({
    uid: 'isoscope',
    url: '/api/datasources/proxy/uid/isoscope',
    jsonData: { url: 'http://isoscope:8080' },
    meta: {},
  } as unknown as DataSourceInstanceSettings<IsoscopeDataSourceOptions>);

function setup(query: Partial<IsoscopeQuery>) {
  fakeTemplates({ host: 'web-1' });
  const calls = fakeBackend((c) => {
    const find = (c.data as { find?: string }).find;
    return { data: find === 'detectors' ? values('cpu', 'mem') : values('web-1', 'web-2') };
  });
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  render(
    <QueryEditor
      datasource={ds()}
      query={{ refId: 'A', ...query } as IsoscopeQuery}
      onChange={onChange}
      onRunQuery={onRunQuery}
    />
  );
  return { calls, onChange, onRunQuery };
}

/** Lets the editors' option lists load (they update state after render). */
async function settled(calls: unknown[], count: number) {
  await waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(count));
  await act(async () => {});
}

describe('QueryEditor', () => {
  it('offers the detectors and the template variables, and a new detector clears the entity', async () => {
    const { calls, onChange, onRunQuery } = setup({ detector: 'cpu', entity: 'web-1', return: 'score' });
    await settled(calls, 2);
    await choose('isoscope-detector', 'mem');
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', detector: 'mem', entity: '', return: 'score' });
    expect(onRunQuery).toHaveBeenCalled();
    await choose('isoscope-entity', '$host');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ entity: '$host' }));
  });

  it("lists the chosen detector's entities", async () => {
    const { calls } = setup({ detector: 'cpu', entity: '', return: 'score' });
    await waitFor(() => expect(calls.map((c) => c.data)).toContainEqual({ find: 'entities', detector: 'cpu' }));
  });

  it('switches what the query returns', async () => {
    const { calls, onChange } = setup({ detector: 'cpu', entity: '', return: 'score' });
    await settled(calls, 2);
    fireEvent.click(screen.getByText('Expected range'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ return: 'expected' }));
  });

  it('migrates an old query before showing it', async () => {
    setup({ detector: 'cpu', host: 'web-2' } as never);
    await waitFor(() => expect(screen.getByText('web-2')).toBeInTheDocument());
    expect(screen.getByRole('radio', { name: 'Score' })).toBeChecked();
  });

  it('shows only detector, entity and anomalies or incidents for annotations', async () => {
    const { onChange } = setup({ detector: '', entity: '', return: 'annotations' });
    expect(screen.queryByText('Return')).not.toBeInTheDocument();
    await waitFor(() => expect(screen.getByText('All detectors')).toBeInTheDocument());
    expect(screen.getByRole('radio', { name: 'Anomalies' })).toBeChecked();
    fireEvent.click(screen.getByRole('radio', { name: 'Incidents' }));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ kind: 'incidents', return: 'annotations' }));
  });
});
