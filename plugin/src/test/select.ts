import { fireEvent, screen } from '@testing-library/react';

/** Opens a @grafana/ui Select by its input id and picks the option with this label. */
export async function choose(inputId: string, label: string | RegExp): Promise<void> {
  const input = document.getElementById(inputId);
  if (!input) {
    throw new Error(`no select with input id ${inputId}`);
  }
  fireEvent.keyDown(input, { key: 'ArrowDown' });
  fireEvent.click(await screen.findByText(label, { selector: '[role="option"] *, [role="option"]' }));
}
