import React from 'react';
import type { ModelVersion, StageChange } from '../../api/types';
import { formatTime } from '../../format';
import { changeLabel, entityOf } from './metrics';

/** Who moved which entity's version where, when and why. */
export function HistoryTab({ history, models }: { history: StageChange[]; models: ModelVersion[] }) {
  return (
    <table className="filter-table" aria-label="Stage history">
      <thead>
        <tr>
          <th>When</th>
          <th>Entity</th>
          <th>Version</th>
          <th>From</th>
          <th>To</th>
          <th>By</th>
          <th>Reason</th>
        </tr>
      </thead>
      <tbody>
        {history.map((h) => {
          const entity = entityOf(h as StageChange & { entity?: string }, models);
          return (
            <tr key={`${h.at}-${h.version}-${h.to}`}>
              <td>{formatTime(h.at)}</td>
              <td>{entity === undefined ? '–' : entity || '(all entities)'}</td>
              <td>{changeLabel(h, models)}</td>
              <td>{h.from ?? '–'}</td>
              <td>{h.to}</td>
              <td>{h.actor}</td>
              <td>{h.reason}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
