import { BatchNormError } from '@batchnorm/core';
import type { Shader, ShaderConfig } from './dispatch.js';
import { keepAlive } from './keepAlive.js';

/** The compiled compute pipeline of each shader, for one device and configuration. */
export class Pipelines {
  readonly #device: GPUDevice;
  readonly #config: ShaderConfig;
  readonly #compiled = new Map<Shader, GPUComputePipeline>();

  constructor(device: GPUDevice, config: ShaderConfig) {
    this.#device = device;
    this.#config = config;
  }

  #module(shader: Shader): GPUShaderModule {
    return this.#device.createShaderModule({ label: shader.label, code: shader.source(this.#config) });
  }

  /** The shader's pipeline, compiled now if `prepare` has not. */
  get(shader: Shader): GPUComputePipeline {
    let pipeline = this.#compiled.get(shader);
    if (pipeline === undefined) {
      const module = this.#module(shader);
      pipeline = this.#device.createComputePipeline({ label: shader.label, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.#compiled.set(shader, pipeline);
    }
    return pipeline;
  }

  /**
   * Compiles `shaders` ahead of use (in parallel where the implementation can); rejects with a
   * typed error quoting the compiler when one fails, so a broken driver shows at creation.
   */
  async prepare(shaders: readonly Shader[]): Promise<void> {
    await Promise.all(
      shaders.map(async (shader) => {
        if (this.#compiled.has(shader)) return;
        const module = this.#module(shader);
        try {
          const pipeline = await keepAlive(
            this.#device.createComputePipelineAsync({ label: shader.label, layout: 'auto', compute: { module, entryPoint: 'main' } }),
          );
          this.#compiled.set(shader, pipeline);
        } catch (error) {
          const info = await keepAlive(module.getCompilationInfo());
          const messages = info.messages.map((m) => `${m.type} ${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
          throw new BatchNormError(
            {
              code: 'BACKEND_UNAVAILABLE',
              argument: 'webgpu',
              expected: `the ${shader.label} shader to compile on this device`,
              received: messages === '' ? String(error) : messages,
            },
            { cause: error },
          );
        }
      }),
    );
  }

  clear(): void {
    this.#compiled.clear();
  }
}
