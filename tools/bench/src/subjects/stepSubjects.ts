import type { Backend, TensorHandle } from '@batchnorm/core';
import { prepareContractStep } from '../mnist/contractStep.js';
import { TFJS_LAYERS_NAMES, type TfjsEngine } from '../names.js';
import type { StepSubject } from '../runMnist.js';

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
      const [{ activateTfjs }, { prepareTfjsLayersStep }] = await Promise.all([
        import('../tfjs.js'),
        import('../mnist/tfjsLayersStep.js'),
      ]);
      const reason = await activateTfjs(engine);
      if (reason !== undefined) throw new Error(reason);
      return prepareTfjsLayersStep(variant, problem);
    },
  };
}
