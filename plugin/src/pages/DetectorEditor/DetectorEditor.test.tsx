import React from 'react';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { detector } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { choose } from '../../test/select';
import { DetectorEditor } from './DetectorEditor';

const presets = [
  { name: 'cpu', measurement: 'cpu', entityTag: 'host', fields: ['usage_user', 'usage_system'] },
  { name: 'mem', measurement: 'mem', entityTag: 'host', fields: ['used_percent'] },
];
const preview = {
  measurement: 'mem',
  fields: ['used_percent'],
  from: '2026-03-01T00:00:00.000Z',
  to: '2026-03-01T01:00:00.000Z',
  entities: [{ entity: 'web-1', rows: 3, time: [0, 60000, 120000], values: [[40, 41, 43]] }],
};

describe('DetectorEditor', () => {
  it('creates a detector from a preset with the full spec and opens it', async () => {
    const { calls } = renderPage(<DetectorEditor />, {
      route: '/detectors/new',
      url: '/detectors/new',
      role: 'Editor',
      answer: routes({ 'GET presets': presets, 'POST detectors': { ...detector, id: 'mem-hosts', name: 'mem hosts' } }),
    });
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: 'mem hosts' } });
    await choose('detector-preset', 'mem');
    fireEvent.click(screen.getByRole('button', { name: 'Create detector' }));
    await waitFor(() =>
      expect(screen.getByTestId('location')).toHaveTextContent('/a/isoscope-anomaly-app/detectors/mem-hosts')
    );
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.data).toEqual({
      name: 'mem hosts',
      spec: {
        source: { preset: 'mem', entityTag: 'host' },
        intervalSeconds: 60,
        features: {},
        model: {},
        alerting: { window: 5, cooldownMinutes: 30, minAnomalous: 3, minSeverity: 'low' },
        trainingWindowHours: 168,
        schedule: { scoreEverySeconds: 60, retrainOnDrift: true, driftCheckEveryHours: 6, promotion: 'auto-if-better' },
      },
    });
  });

  it('previews the data of the unsaved spec, from the database it names', async () => {
    const { calls } = renderPage(<DetectorEditor />, {
      route: '/detectors/new',
      url: '/detectors/new',
      answer: routes({ 'GET presets': presets, 'POST detectors/preview': preview }),
    });
    await choose('detector-preset', 'mem');
    fireEvent.change(screen.getByLabelText(/^Database/), { target: { value: 'telegraf_eu' } });
    fireEvent.click(screen.getByRole('button', { name: 'Preview data' }));
    expect(await screen.findByRole('img', { name: 'web-1 used_percent' })).toBeInTheDocument();
    expect(calls.find((c) => c.url.includes('preview'))?.data).toEqual({
      spec: expect.objectContaining({ source: { preset: 'mem', database: 'telegraf_eu', entityTag: 'host' } }),
    });
  });

  it('names what is wrong before sending, and shows what the service refused', async () => {
    const { calls } = renderPage(<DetectorEditor />, {
      route: '/detectors/new',
      url: '/detectors/new',
      answer: routes({
        'GET presets': presets,
        'POST detectors': () => ({ status: 409, data: { message: "a detector 'cpu' exists" } }),
      }),
    });
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: '-bad' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create detector' }));
    expect(await screen.findByText(/starting with a letter or digit/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'POST')).toBe(false);
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: 'cpu' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create detector' }));
    expect(await screen.findByText("a detector 'cpu' exists")).toBeInTheDocument();
  });

  it('edits an existing detector, keeping what the form does not show', async () => {
    const tuned = {
      ...detector,
      spec: {
        ...detector.spec,
        source: { preset: 'cpu', entityTag: 'host', tags: { cpu: 'cpu0' }, language: 'flux' as const },
        model: { trees: 200, seed: 7 },
      },
    };
    const { calls } = renderPage(<DetectorEditor />, {
      route: '/detectors/:id/edit',
      url: '/detectors/cpu/edit',
      role: 'Editor',
      answer: routes({ 'GET presets': presets, 'GET detectors/cpu': tuned, 'PUT detectors/cpu': tuned }),
    });
    await waitFor(() => expect(screen.getByLabelText(/^Name/)).toHaveValue('cpu'));
    fireEvent.change(screen.getByLabelText(/^Interval/), { target: { value: '30' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!.data as { spec: typeof detector.spec };
    expect(put.spec.intervalSeconds).toBe(30);
    expect(put.spec.model).toEqual({ trees: 200, seed: 7 });
    expect(put.spec.source).toEqual({
      preset: 'cpu',
      entityTag: 'host',
      tags: { cpu: 'cpu0' },
      language: 'flux',
    });
  });

  it("sets the model's sharing, trees, contamination, threshold and scoring beyond the window; refuses a bad share", async () => {
    const { calls } = renderPage(<DetectorEditor />, {
      route: '/detectors/:id/edit',
      url: '/detectors/cpu/edit',
      role: 'Editor',
      answer: routes({ 'GET presets': presets, 'GET detectors/cpu': detector, 'PUT detectors/cpu': detector }),
    });
    await waitFor(() => expect(screen.getByLabelText(/^Name/)).toHaveValue('cpu'));
    expect(screen.getByLabelText(/^Trees/)).toHaveValue(null);
    fireEvent.change(screen.getByLabelText(/^Trees/), { target: { value: '150' } });
    fireEvent.change(screen.getByRole('spinbutton', { name: /^Contamination/ }), { target: { value: '0.7' } });
    fireEvent.click(screen.getByRole('radio', { name: 'Contamination quantile' }));
    fireEvent.click(screen.getByRole('radio', { name: 'Clamp' }));
    fireEvent.click(screen.getByLabelText(/^One model for all entities/));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/at most 0.5/)).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'PUT')).toBe(false);
    fireEvent.change(screen.getByRole('spinbutton', { name: /^Contamination/ }), { target: { value: '0.02' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!.data as { spec: typeof detector.spec };
    expect(put.spec.model).toEqual({
      shared: true,
      trees: 150,
      contamination: 0.02,
      thresholdPolicy: 'contamination',
      outOfRange: 'clamp',
    });
  });

  it('takes a fixed threshold between 0 and 1 instead of a policy, and shows a saved one', async () => {
    const fixed = { ...detector, spec: { ...detector.spec, model: { threshold: 0.6 } } };
    const { calls } = renderPage(<DetectorEditor />, {
      route: '/detectors/:id/edit',
      url: '/detectors/cpu/edit',
      role: 'Editor',
      answer: routes({ 'GET presets': presets, 'GET detectors/cpu': fixed, 'PUT detectors/cpu': fixed }),
    });
    await waitFor(() => expect(screen.getByRole('radio', { name: 'Fixed' })).toBeChecked());
    expect(screen.getByLabelText(/^Fixed threshold/)).toHaveValue(0.6);
    fireEvent.change(screen.getByLabelText(/^Fixed threshold/), { target: { value: '1.2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/A score between 0 and 1/)).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText(/^Fixed threshold/), { target: { value: '0.72' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.method === 'PUT')!.data as { spec: typeof detector.spec };
    expect(put.spec.model).toEqual({ threshold: 0.72 });
  });
});
