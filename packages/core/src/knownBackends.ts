/**
 * The one list of this project's backend packages. The registry imports a package from here
 * when asked for its name; the conformance CLI, the MNIST app, the bench and the release scripts
 * derive their backend lists from it. Adding a backend means one entry here plus its package
 * (see docs/adding-a-backend.md). Each package's `backendModule` repeats its entry, and a test
 * checks that the two agree.
 */
export const KNOWN_BACKENDS = [
  { name: 'js', packageName: '@batchnorm/backend-js' },
  { name: 'gpujs', packageName: '@batchnorm/backend-gpujs' },
  { name: 'tfjs-node', packageName: '@batchnorm/backend-tfjs-node' },
  { name: 'webgpu', packageName: '@batchnorm/backend-webgpu' },
] as const satisfies readonly KnownBackend[];

export interface KnownBackend {
  /** The registry name. */
  readonly name: string;
  /** The npm package whose `backendModule` provides it. */
  readonly packageName: string;
}

export type KnownBackendName = (typeof KNOWN_BACKENDS)[number]['name'];
