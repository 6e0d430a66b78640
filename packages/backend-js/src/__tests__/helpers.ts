// seeded data and numpy's allclose, shared by every backend's tests
export { expectAllClose, randomFloat32 } from '@batchnorm/conformance/testing';
