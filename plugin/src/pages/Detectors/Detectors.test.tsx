import React from 'react';
import { screen } from '@testing-library/react';
import { detector } from '../../test/fixtures';
import { renderPage, routes } from '../../test/renderPage';
import { Detectors } from './Detectors';

const explicit = {
  ...detector,
  id: 'disk',
  name: 'disk',
  spec: {
    ...detector.spec,
    source: { measurement: 'disk', fields: [{ field: 'used_percent', aggregate: 'max' as const }] },
  },
};

describe('Detectors page', () => {
  it('lists detectors with what they read, and offers a new one to editors', async () => {
    renderPage(<Detectors />, {
      route: '/detectors',
      url: '/detectors',
      role: 'Editor',
      answer: routes({ 'GET detectors': [detector, explicit] }),
    });
    expect(await screen.findByText('cpu (Telegraf preset), every 60 s')).toBeInTheDocument();
    expect(screen.getByText('disk: used_percent, every 60 s')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'cpu' })).toHaveAttribute('href', '/a/isoscope-anomaly-app/detectors/cpu');
    expect(screen.getByRole('link', { name: /New detector/ })).toBeInTheDocument();
  });

  it('hides creation from viewers and explains an empty list', async () => {
    renderPage(<Detectors />, {
      route: '/detectors',
      url: '/detectors',
      role: 'Viewer',
      answer: routes({ 'GET detectors': [] }),
    });
    expect(await screen.findByText('No detectors yet')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /New detector/ })).not.toBeInTheDocument();
  });

  it('says why the list is missing when the service cannot be reached', async () => {
    renderPage(<Detectors />, { route: '/detectors', url: '/detectors', answer: () => ({ status: 502, data: {} }) });
    expect(await screen.findByText(/unreachable \(HTTP 502\)/)).toBeInTheDocument();
  });
});
