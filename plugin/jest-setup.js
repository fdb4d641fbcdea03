// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// jsdom has no layout observers; @grafana/ui's menus and scroll containers create them on mount.
class NoopObserver {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
global.IntersectionObserver = global.IntersectionObserver || NoopObserver;
global.ResizeObserver = global.ResizeObserver || NoopObserver;

// Grafana's page chrome comes from Grafana itself; the tests install a stand-in that shows the
// header actions, reaching runtime's setter the way Grafana does (it is not a public export).
const { StandInPluginPage } = require('./src/test/StandInPluginPage');
const runtimeIndex = require.resolve('@grafana/runtime');
require(runtimeIndex.replace(/index\.cjs$/, 'components/PluginPage.cjs')).setPluginPage(StandInPluginPage);

// findBy*/waitFor wait for what a page loads, not for how fast: on a loaded 2-core CI machine a page's
// first render takes more than the library's default second. A hang still fails, after 10 s.
require('@testing-library/react').configure({ asyncUtilTimeout: 10_000 });
