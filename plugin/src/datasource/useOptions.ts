import { useEffect, useState } from 'react';
import type { SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { toIsoscopeError, type IsoscopeClient } from '../api/client';
import type { VariableFind, VariableValue } from '../api/types';

/** A variable list from the service plus the dashboard's template variables, for the editors' selects. */
export function useVariableOptions(
  client: IsoscopeClient,
  find: VariableFind,
  detector?: string
): { options: Array<SelectableValue<string>>; error?: string; loading: boolean } {
  const [state, setState] = useState<{ values: VariableValue[]; error?: string; loading: boolean }>({
    values: [],
    loading: true,
  });
  const needsDetector = find !== 'detectors';
  useEffect(() => {
    if (needsDetector && !detector) {
      // eslint-disable-next-line react-hooks/set-state-in-effect
      setState({ values: [], loading: false });
      return;
    }
    let live = true;

    setState((s) => ({ ...s, loading: true }));
    client
      .variables(find, needsDetector ? getTemplateSrv().replace(detector) : undefined)
      .then((values) => live && setState({ values, loading: false }))
      .catch((e) => live && setState({ values: [], loading: false, error: toIsoscopeError(e).message }));
    return () => {
      live = false;
    };
  }, [client, find, detector, needsDetector]);
  const variables = getTemplateSrv()
    .getVariables()
    .map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: 'Template variable' }));
  return {
    options: [...state.values.map((v) => ({ label: v.text, value: v.value })), ...variables].filter(
      (o, i, all) => all.findIndex((x) => x.value === o.value) === i
    ),
    error: state.error,
    loading: state.loading,
  };
}

/** The options with the current value added when it is not among them (a custom value, or not loaded yet). */
export function withCurrent(options: Array<SelectableValue<string>>, value: string): Array<SelectableValue<string>> {
  return value === '' || options.some((o) => o.value === value) ? options : [...options, { label: value, value }];
}
