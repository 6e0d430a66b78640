import { createRequire } from 'node:module';
import { BatchNormError } from '@batchnorm/core';

// What the setup command and the binding's place are: apart from loader.ts, whose declarations
// name tfjs-node's types, so that the public entry's declarations do not.

/** The command that builds tfjs-node's native binding (online download or local wheel). */
export const SETUP_COMMAND = 'npx batchnorm-tfjs-node-setup';
/** What to do when the binding is missing: the same command whatever installed the package. */
export const SETUP_HINT =
  `Run ${SETUP_COMMAND}: it runs tfjs-node's download of libtensorflow, or offline builds the binding ` +
  'from a TensorFlow CPU wheel (BATCHNORM_TF_WHEEL=/path/to/tensorflow_cpu-….whl).';

const require = createRequire(import.meta.url);

/** The path tfjs-node loads its binding from (node-pre-gyp's `find`, as tfjs-node's index.js does). */
export function tfjsNodeBindingPath(): string {
  const packageJson = resolveTfjsNodePackageJson();
  const preGyp: { find(packageJsonPath: string): string } = createRequire(packageJson)('@mapbox/node-pre-gyp');
  return preGyp.find(packageJson);
}

function resolveTfjsNodePackageJson(): string {
  try {
    return require.resolve('@tensorflow/tfjs-node/package.json');
  } catch (error) {
    throw new BatchNormError(
      {
        code: 'BACKEND_NOT_INSTALLED',
        argument: 'backend',
        expected: 'the peer dependency @tensorflow/tfjs-node@4.22.0 to be installed',
        received: 'no such package',
        hint: `Install it without its install script (npm install --ignore-scripts @tensorflow/tfjs-node@4.22.0, or pnpm add / yarn add), then run ${SETUP_COMMAND}.`,
      },
      { cause: error },
    );
  }
}

