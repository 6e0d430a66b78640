import { describe, expect, it } from 'vitest';
import { parseArgs } from './args.js';

describe('focused runs', () => {
  it('--only, --shape(s), --ops, --mode, --rounds narrow a run', () => {
    const o = parseArgs(['--only', 'js,pytorch', '--shape', 'NHWC:32x56x56x64', '--ops', 'backward', '--mode', 'resident', '--rounds', '5']);
    expect([...o.only!]).toEqual(['js', 'pytorch']);
    expect(o.shapes).toEqual([{ layout: 'NHWC', shape: [32, 56, 56, 64] }]);
    expect(o.ops).toEqual(['backward']);
    expect(o.mnist).toBe(false); // --ops without mnistStep leaves the MNIST step out
    expect(o.modes).toEqual({ readBack: false, resident: true });
    expect(o.rounds).toBe(5);
    expect(parseArgs(['--shapes=NC:60x100']).shapes).toEqual([{ layout: 'NC', shape: [60, 100] }]);
    expect(parseArgs(['--ops', 'forwardTraining,mnistStep']).mnist).toBe(true);
    expect(parseArgs([]).modes).toEqual({ readBack: true, resident: true });
    expect(parseArgs(['--python', '/tmp/venv/bin/python', '--torch-threads', '1'])).toMatchObject({ python: '/tmp/venv/bin/python', torchThreads: 1 });
  });

  it('refuses bad values naming the flag and what it expects', () => {
    expect(() => parseArgs(['--ops', 'forward'])).toThrow('--ops: expected names among forwardTraining, forwardInference, backward, mnistStep');
    expect(() => parseArgs(['--mode', 'fast'])).toThrow('--mode: expected one of both, resident, read-back');
    expect(() => parseArgs(['--rounds', '0'])).toThrow('--rounds: expected an integer from 1 to 1000');
    expect(() => parseArgs(['--torch-threads', 'two'])).toThrow('--torch-threads: expected an integer from 1 to 1000');
    expect(() => parseArgs(['--shape', 'NHWC:2x3'])).toThrow('--shapes');
  });
});
