import { DataSourcePlugin } from '@grafana/data';
import { ConfigEditor } from './ConfigEditor';
import { IsoscopeDataSource } from './datasource';
import { QueryEditor } from './QueryEditor';
import type { IsoscopeDataSourceOptions, IsoscopeQuery } from './types';
import { VariableQueryEditor } from './VariableQueryEditor';

export const plugin = new DataSourcePlugin<IsoscopeDataSource, IsoscopeQuery, IsoscopeDataSourceOptions>(
  IsoscopeDataSource
)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor)
  .setVariableQueryEditor(VariableQueryEditor);
