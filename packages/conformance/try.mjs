import { runSuite } from './dist/index.js';
import { createReferenceBackend } from '@batchnorm/core';
const { createBackend } = await import('/work/main/packages/backend-js/dist/index.js');
for (const [name, b] of [['reference', createReferenceBackend()], ['js', await createBackend()]]) {
  for (const grid of ['quick', 'full']) {
    const t = performance.now();
    const r = await runSuite(b, { grid });
    console.log(name, grid, r.length, 'ms', (performance.now()-t).toFixed(0), 'failed', r.filter(x=>!x.pass).length);
    for (const x of r.filter(x=>!x.pass).slice(0,20)) console.log('  ', x.case, x.message);
    // worst error ratio for info
  }
}
