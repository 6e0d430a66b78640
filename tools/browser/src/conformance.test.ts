import { describeConformancePages } from './conformanceSuite.js';
import { launchChromium, runPage } from './harness.js';

describeConformancePages('headless Chromium', 'chromium', async () => {
  const browser = await launchChromium();
  return {
    version: browser.version(),
    runPage: (url, screenshot) => runPage(browser, url, screenshot),
    close: () => browser.close(),
  };
});
