import { readmeExamples } from '@batchnorm/readme-example';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchNorm } from './BatchNorm.js';
import { createReferenceBackend } from './reference/index.js';

/** The README's ts examples, type-checked and run against the built package, so they stay true. */
const examplesOfReadme = readmeExamples(import.meta.url);
const { examples, readme } = examplesOfReadme;
afterAll(examplesOfReadme.cleanup);

describe('README.md', () => {
  it('has a usage example', () => {
    expect(examples.length).toBeGreaterThan(0);
    expect(examples[0]).toContain("from '@batchnorm/core'");
  });

  it('states the defaults the layer has', () => {
    const layer = new BatchNorm(createReferenceBackend(), { numFeatures: 1 });
    // the conventions table: | `option` | meaning | `default` |
    const defaults = new Map(
      [...readme.matchAll(/^\| `(\w+)` \|.*\| `([^`]+)` \|$/gm)].map((m) => [m[1]!, m[2]!] as const),
    );
    expect([...defaults.keys()].sort()).toEqual(['epsilon', 'layout', 'momentum', 'varianceCorrection']);
    expect(Number(defaults.get('momentum'))).toBe(layer.momentum);
    expect(Number(defaults.get('epsilon'))).toBe(layer.epsilon);
    expect(defaults.get('varianceCorrection')).toBe(`'${layer.varianceCorrection}'`);
    expect(defaults.get('layout')).toBe(`'${layer.layout}'`);
  });

  it.each(examples.map((source, i) => [i + 1, source] as const))(
    'example %i type-checks and runs against the built package',
    (index, source) => {
      const { typeErrors, status, stdout, stderr } = examplesOfReadme.run(index, source);
      expect(typeErrors).toEqual([]);
      expect(status, stderr).toBe(0);
      expect(stdout).toContain('folded');
    },
    60_000,
  );
});
