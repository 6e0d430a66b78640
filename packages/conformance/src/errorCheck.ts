import {
  BatchNorm,
  BatchNormError,
  createReferenceBackend,
  loadBackendModule,
  registeredBackends,
  type Backend,
  type TensorHandle,
} from '@batchnorm/core';
import { hostData } from './caseExecution.js';
import { errorScenarios } from './errorScenarios.js';
import { C, ramp, size, trainingShape, type ErrorScenario, type ScenarioContext } from './scenario.js';
import type { CaseResult } from './types.js';

export { errorScenarios } from './errorScenarios.js';
export { handleScenarios } from './handleScenarios.js';
export type { ErrorScenario, ScenarioContext } from './scenario.js';

type Outcome = { threw: false } | { threw: true; error: unknown };

function describeOutcome(outcome: Outcome): string {
  if (!outcome.threw) return 'no error';
  const e = outcome.error;
  if (e instanceof BatchNormError) return `BatchNormError ${e.code} (${e.argument})`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

interface Attempt {
  readonly outcome: Outcome;
  /** Whether the layer's state survived the rejected call (layer scenarios only). */
  readonly intact: boolean | undefined;
  readonly detail?: string;
}

/** Makes another instance of the backend under test, for scenarios that need one. */
export type SecondInstanceFactory = () => Backend | Promise<Backend>;

/**
 * The scenario's context on `backend`: its uploads, a reference backend of its own for foreign
 * tensors, and a second instance when the scenario needs one. `release` frees them all.
 */
async function contextFor<T extends TensorHandle>(
  backend: Backend<T>,
  scenario: ErrorScenario,
  makeSecond: SecondInstanceFactory | undefined,
): Promise<{ context: ScenarioContext<T>; release: () => void }> {
  const owned: T[] = [];
  const foreignBackend = createReferenceBackend();
  const second = scenario.secondInstance === true && makeSecond !== undefined ? await makeSecond() : undefined;
  const secondOwned: TensorHandle[] = [];
  const context: ScenarioContext<T> = {
    backend,
    upload(values, s) {
      const t = backend.upload(hostData(backend, values), s);
      owned.push(t);
      return t;
    },
    foreign: (values, s) => foreignBackend.upload(Float64Array.from(values), s),
    secondInstance(values, s) {
      if (second === undefined) throw new Error(`scenario ${scenario.name} has no second instance (set secondInstance: true)`);
      const t = second.upload(hostData(second, values), s);
      secondOwned.push(t);
      return t;
    },
  };
  const release = (): void => {
    for (const t of owned) backend.dispose(t);
    if (second !== undefined) {
      for (const t of secondOwned) second.dispose(t);
      second.destroy();
    }
  };
  return { context, release };
}

/**
 * Runs `scenario` on `backend`. A layer scenario's outcome includes `await layer.settle()`: on a
 * backend that reads asynchronously, a non-finite batch is reported when its check settles, not
 * by `forward` itself (core's documented behaviour), and must leave the state as it was.
 */
async function attempt<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  scenario: ErrorScenario,
  makeSecond: SecondInstanceFactory | undefined,
): Promise<Attempt> {
  const shape = trainingShape(scenario.layout);
  if (scenario.construct !== undefined) {
    try {
      new BatchNorm(backend, scenario.construct(C)).dispose();
      return { outcome: { threw: false }, intact: undefined };
    } catch (error) {
      return { outcome: { threw: true, error }, intact: undefined };
    }
  }
  const { context, release } = await contextFor<T>(backend, scenario, makeSecond);
  const upload = context.upload;
  const layer = new BatchNorm(backend, { numFeatures: C, layout: scenario.layout, gamma: [1, 0.5, 2], beta: [0, 1, -1] });
  try {
    // two training steps and a backward, so there is state to keep
    for (const shift of [0, 1]) {
      const y = layer.forward(upload(ramp(size(shape), shift), shape));
      backend.dispose(y);
    }
    backend.dispose(layer.backward(upload(ramp(size(shape), 2), shape)));
    // state() reads γ, β and the statistics back: a rejected call must not have touched them
    const before = JSON.stringify(await layer.state());
    const wasTraining = layer.training;
    let outcome: Outcome;
    try {
      const result: unknown = await scenario.act!(layer, upload, context);
      if (typeof result === 'object' && result !== null && 'shape' in result) backend.dispose(result as T);
      await layer.settle();
      outcome = { threw: false };
    } catch (error) {
      outcome = { threw: true, error };
    }
    const after = JSON.stringify(await layer.state());
    const intact = before === after && (scenario.name.endsWith('afterEval') || layer.training === wasTraining);
    return intact ? { outcome, intact } : { outcome, intact, detail: `state before ${before}\nstate after  ${after}` };
  } finally {
    layer.dispose();
    release();
  }
}

/** Runs a `verify` scenario on `backend`: what is wrong, or `undefined`. */
async function verifyOn<T extends TensorHandle>(
  backend: Backend<T>,
  scenario: ErrorScenario,
  makeSecond: SecondInstanceFactory | undefined,
): Promise<string | undefined> {
  const { context, release } = await contextFor<T>(backend, scenario, makeSecond);
  try {
    return await scenario.verify!(context);
  } catch (error) {
    return `threw ${describeOutcome({ threw: true, error })}`;
  } finally {
    release();
  }
}

/** The registry's factory for a backend registered under `name` (the CLI registers what it loads). */
function registeredFactory(name: string): SecondInstanceFactory | undefined {
  if (!registeredBackends().includes(name)) return undefined;
  return async () => (await loadBackendModule(name)).createBackend();
}

export interface CheckErrorsOptions {
  /** The name results carry; default `backend.name`. */
  readonly backendName?: string;
  /** The scenarios to run; default `errorScenarios()`. */
  readonly scenarios?: readonly ErrorScenario[];
  /**
   * Makes a second instance of the backend, for the scenarios that hand it a tensor of another
   * instance. Default: the registry's factory when `backend.name` is registered; else those
   * scenarios are reported as skipped.
   */
  readonly createBackend?: SecondInstanceFactory;
}

/**
 * Runs every error scenario on `backend` and on the reference: each must raise a
 * `BatchNormError` with the same code and argument on both, and leave the layer's state intact.
 * A `verify` scenario must hold on both.
 */
export async function checkErrors<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  options: CheckErrorsOptions = {},
): Promise<CaseResult[]> {
  const reference = createReferenceBackend();
  const secondReference: SecondInstanceFactory = () => createReferenceBackend();
  const secondBackend = options.createBackend ?? registeredFactory(backend.name);
  const results: CaseResult[] = [];
  for (const scenario of options.scenarios ?? errorScenarios()) {
    const base = { backend: options.backendName ?? backend.name, case: scenario.name, op: 'errorCheck', layout: scenario.layout };
    if (scenario.secondInstance === true && secondBackend === undefined) {
      results.push({ ...base, pass: true, skipped: true, maxAbsError: 0, maxRelError: 0, message: 'skipped: no second instance of the backend (pass createBackend)' });
      continue;
    }
    let message: string | undefined;
    try {
      if (scenario.verify !== undefined) {
        const wrong = await verifyOn(reference, scenario, secondReference);
        const got = wrong === undefined ? await verifyOn(backend, scenario, secondBackend) : undefined;
        if (wrong !== undefined) message = `the reference fails it (${wrong}): the scenario itself is wrong`;
        else if (got !== undefined) message = got;
      } else {
        const want = await attempt(reference, scenario, secondReference);
        const got = await attempt(backend, scenario, secondBackend);
        const wantError = want.outcome.threw ? want.outcome.error : undefined;
        const gotError = got.outcome.threw ? got.outcome.error : undefined;
        const expected = scenario.expected;
        if (!(wantError instanceof BatchNormError)) {
          message = `the reference gave ${describeOutcome(want.outcome)}: the scenario itself is wrong`;
        } else if (expected !== undefined && (wantError.code !== expected.code || wantError.argument !== expected.argument)) {
          message = `the reference gave BatchNormError ${wantError.code} (${wantError.argument}), not ${expected.code} (${expected.argument}): the scenario itself is wrong`;
        } else if (!(gotError instanceof BatchNormError)) {
          message = `expected BatchNormError ${wantError.code} (${wantError.argument}), got ${describeOutcome(got.outcome)}`;
        } else if (gotError.code !== wantError.code || gotError.argument !== wantError.argument) {
          message = `expected BatchNormError ${wantError.code} (${wantError.argument}), got ${gotError.code} (${gotError.argument})`;
        } else if (got.intact === false) {
          message = `the layer's state changed although the call was rejected\n${got.detail ?? ''}`;
        }
      }
    } catch (error) {
      message = `threw outside the scenario: ${error instanceof Error ? error.message : String(error)}`;
    }
    results.push({ ...base, pass: message === undefined, maxAbsError: 0, maxRelError: 0, ...(message === undefined ? {} : { message }) });
  }
  return results;
}
