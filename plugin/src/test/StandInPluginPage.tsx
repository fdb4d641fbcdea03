import React from 'react';
import type { PluginPageProps } from '@grafana/runtime';

/**
 * Stands in for Grafana's page chrome (which only Grafana's server app provides): the title, the
 * header actions and the content, so tests and the browser harness see what Grafana would show.
 */
export function StandInPluginPage({ pageNav, actions, children }: PluginPageProps) {
  return (
    <div>
      <header style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center', marginBottom: 16 }}>
        <div>
          {pageNav?.text && <h1>{pageNav.text}</h1>}
          {pageNav?.subTitle && <div>{pageNav.subTitle}</div>}
        </div>
        <div>{actions}</div>
      </header>
      {children}
    </div>
  );
}
