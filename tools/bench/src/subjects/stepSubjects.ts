import type { Backend, TensorHandle } from '@batchnorm/core';
import { prepareContractStep } from '../mnist/contractStep.js';
import { prepareTfjsLayersStep } from '../mnist/tfjsLayersStep.js';
import type { StepSubject } from '../runMnist.js';
import { activateTfjs, type TfjsEngine } from '../tfjs.js';

export const TFJS_LAYERS_NAMES: Readonly<Record<TfjsEngine, string>> = {
  tensorflow: 'tfjs-layers-node',
  wasm: 'tfjs-layers-wasm',
  cpu: 'tfjs-layers-cpu',
};

export function contractStepSubject<T extends TensorHandle>(
  backend: Backend<T>,
  beforePrepare: () => Promise<void> = async () => {},
): StepSubject {
  return {
    name: backend.name,
    prepare: async (variant, problem) => {
      await beforePrepare();
      return prepareContractStep(backend, variant, problem);
    },
  };
}

export function tfjsLayersSubject(engine: TfjsEngine): StepSubject {
  return {
    name: TFJS_LAYERS_NAMES[engine],
    async prepare(variant, problem) {
      const reason = await activateTfjs(engine);
      if (reason !== undefined) throw new Error(reason);
      return prepareTfjsLayersStep(variant, problem);
    },
  };
}
