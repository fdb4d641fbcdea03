// Bundles the plugin preview (main.tsx) with the plugin's sources and the real @grafana/* packages,
// which Grafana would otherwise provide to the plugin at run time.
const path = require('node:path');
const CopyWebpackPlugin = require('copy-webpack-plugin');

const root = path.resolve(__dirname, '../..');

module.exports = {
  mode: 'development',
  devtool: false,
  context: __dirname,
  entry: { preview: './main.tsx' },
  output: {
    path: path.join(__dirname, '..', '.preview'),
    filename: '[name].js',
    publicPath: '/preview-assets/',
  },
  resolve: {
    extensions: ['.tsx', '.ts', '.mjs', '.js', '.json'],
    alias: {
      'grafana-runtime-plugin-page$': path.join(
        root,
        'node_modules/@grafana/runtime/dist/esm/components/PluginPage.mjs'
      ),
    },
  },
  module: {
    rules: [
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: { jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2020' } },
        },
      },
      { test: /\.m?js$/, resolve: { fullySpecified: false } },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(svg|png|woff2?|ttf|eot)$/, type: 'asset/resource' },
    ],
  },
  // Grafana serves @grafana/ui's icons under its public path; index.html points the preview's there.
  plugins: [
    new CopyWebpackPlugin({
      patterns: [
        { from: path.join(root, 'node_modules/@grafana/ui/dist/public/img/icons'), to: 'grafana/build/img/icons' },
      ],
    }),
  ],
  performance: { hints: false },
  stats: 'errors-warnings',
};
