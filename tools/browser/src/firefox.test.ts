import { describeConformancePages } from './conformanceSuite.js';
import { Firefox } from './firefox.js';

// The same pages as in Chromium, in Debian's Firefox ESR driven over WebDriver BiDi; not gpujs's:
// headless Firefox ESR gives it no WebGL here, and gpu.js falls back to its CPU mode.
describeConformancePages(
  'headless Firefox ESR',
  'firefox',
  async () => {
    const firefox = await Firefox.launch();
    return { version: firefox.version, runPage: (url, screenshot) => firefox.runPage(url, screenshot), close: () => firefox.close() };
  },
  ['reference', 'js'],
);
