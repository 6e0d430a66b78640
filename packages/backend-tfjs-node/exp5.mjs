import { createRequire } from 'node:module';
import { createBackend } from './dist/index.js';
const b = createBackend();
const tf = createRequire(import.meta.url)('@tensorflow/tfjs-node');
const layout = process.argv[2] ?? 'NCHW';
const shape = layout === 'NC' ? [4096, 4096] : layout === 'NCHW' ? [32, 64, 56, 56] : [32, 56, 56, 64];
const axes = layout === 'NC' ? [0] : layout === 'NCHW' ? [0, 2, 3] : [0, 1, 2];
const size = shape.reduce((a, d) => a * d, 1); const c = layout === 'NHWC' ? shape[3] : shape[1];
const statShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
const m = size / c;
const x = b.upload(Float32Array.from({ length: size }, (_, i) => Math.sin(i)), shape);
const dy = b.upload(Float32Array.from({ length: size }, (_, i) => Math.cos(i)), shape);
const g = b.upload(new Float32Array(c).fill(1), [c]); const be = b.upload(new Float32Array(c), [c]);
const attrs = { layout, epsilon: 1e-5 };
const saved = b.batchNormForwardTraining({ x, gamma: g, beta: be }, attrs);
const variants = {
  fusedFwd: () => Object.values(b.batchNormForwardTraining({ x, gamma: g, beta: be }, attrs)).map(t => t.tensor),
  composedFwd: () => tf.tidy(() => {
    const { mean, variance } = tf.moments(x.tensor, axes, true);
    const a = tf.mul(tf.rsqrt(tf.add(variance, 1e-5)), tf.reshape(g.tensor, statShape));
    const shift = tf.sub(tf.reshape(be.tensor, statShape), tf.mul(mean, a));
    return [tf.add(tf.mul(x.tensor, a), shift), tf.reshape(mean, [c]), tf.reshape(variance, [c])];
  }),
  fusedBwd: () => Object.values(b.batchNormBackward({ dy, x, gamma: g, mean: saved.mean, variance: saved.variance }, attrs)).map(t => t.tensor),
  composedBwd: () => tf.tidy(() => {
    const mean = tf.reshape(saved.mean.tensor, statShape);
    const invStd = tf.rsqrt(tf.add(tf.reshape(saved.variance.tensor, statShape), 1e-5));
    const xHat = tf.mul(tf.sub(x.tensor, mean), invStd);
    const dbeta = tf.sum(dy.tensor, axes, true);
    const dgamma = tf.sum(tf.mul(dy.tensor, xHat), axes, true);
    const k = tf.div(tf.mul(tf.reshape(g.tensor, statShape), invStd), m);
    const dx = tf.mul(k, tf.sub(tf.sub(tf.mul(dy.tensor, m), dbeta), tf.mul(xHat, dgamma)));
    return [dx, tf.reshape(dgamma, [c]), tf.reshape(dbeta, [c])];
  }),
};
const times = Object.fromEntries(Object.keys(variants).map(k => [k, []]));
const wall = Object.fromEntries(Object.keys(variants).map(k => [k, []]));
for (let r = 0; r < 10; r++) for (const [k, f] of Object.entries(variants)) { const w0 = performance.now(); const c0 = process.cpuUsage(); const o = f(); const c1 = process.cpuUsage(c0); wall[k].push(performance.now() - w0); times[k].push((c1.user + c1.system) / 1000); tf.dispose(o); }
const med = (ts) => { const s = ts.slice(2).sort((a, b) => a - b); return s[Math.floor(s.length / 2)].toFixed(0); };
console.log(layout, process.env.TF_CPU_ALLOCATOR_USE_BFC ?? '', Object.keys(variants).map(k => `${k} cpu ${med(times[k])} wall ${med(wall[k])}`).join(' | '));
