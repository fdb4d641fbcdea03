import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';
import grafanaConfig, { type Env } from './.config/webpack/webpack.config.ts';

/**
 * create-plugin's config, extended the documented way: the nested data source and panel have
 * their own logos, which the managed config copies only for the app.
 */
const config = async (env: Env): Promise<Configuration> => {
  const base = await grafanaConfig(env);
  return {
    ...base,
    plugins: [
      ...(base.plugins ?? []),
      new CopyWebpackPlugin({ patterns: [{ from: '{datasource,panel}/img/*', to: '.' }] }),
    ],
  };
};

export default config;
