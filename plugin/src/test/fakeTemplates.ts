import { setTemplateSrv, type TemplateSrv } from '@grafana/runtime';

/**
 * Stands in for Grafana's template service: `$name` and `${name}` become the variable's value,
 * passed through the format function for multi-values the way Grafana does.
 */
export function fakeTemplates(variables: Record<string, string | string[]>): void {
  const replace = (target?: string, _scoped?: unknown, format?: string | ((v: string | string[]) => string)) =>
    (target ?? '').replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
      const value = variables[name];
      if (value === undefined) {
        return whole;
      }
      if (typeof format === 'function') {
        return format(value);
      }
      return Array.isArray(value) ? value.join(',') : value;
    });
  setTemplateSrv({
    replace,
    getVariables: () => Object.keys(variables).map((name) => ({ name, type: 'custom' })),
    containsTemplate: (t?: string) => /\$/.test(t ?? ''),
    updateTimeRange: () => {},
  } as unknown as TemplateSrv);
}
