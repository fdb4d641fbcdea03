import React from 'react';
import type { StageChange } from '../../api/types';

/** Who moved which version where, when and why. */
export function HistoryTab({ history }: { history: StageChange[] }) {
  return (
    <table className="filter-table" aria-label="Stage history">
      <thead>
        <tr>
          <th>When</th>
          <th>Version</th>
          <th>From</th>
          <th>To</th>
          <th>By</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {history.map((h) => (
          <tr key={`${h.at}-${h.version}-${h.to}`}>
            <td>{new Date(h.at).toLocaleString()}</td>
            <td>v{h.version}</td>
            <td>{h.from ?? '–'}</td>
            <td>{h.to}</td>
            <td>{h.actor}</td>
            <td>{h.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
