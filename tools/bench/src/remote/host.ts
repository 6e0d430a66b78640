import { firstLine, TFJS_ANCHOR_NAMES, TFJS_LAYERS_NAMES } from '../names.js';
import type { SkippedEntry, SubjectInfo } from '../results.js';
import { runSubjectsOnShape } from '../runKernels.js';
import { runMnist, type StepSubject } from '../runMnist.js';
import { contractSubject } from '../subjects/contractSubject.js';
import { loadAnchor, loadOurBackend } from '../subjects/load.js';
import { contractStepSubject, tfjsLayersSubject } from '../subjects/stepSubjects.js';
import type { KernelSubject } from '../subjects/subject.js';
import type { ChildMessage, ChildSettings, LoadedGroup, ParentMessage, SubjectGroup } from './protocol.js';

/** A loaded group: what it reports, and what it times. */
export interface HostedGroup extends LoadedGroup {
  readonly kernelSubjects: readonly KernelSubject[];
  readonly stepSubjects: readonly StepSubject[];
  destroy(): void;
}

export function describeSubject(s: KernelSubject): SubjectInfo {
  return {
    backend: s.name,
    details: s.details,
    ...(s.resident === undefined ? {} : { resident: s.resident }),
    ...(s.noSpeedClaim === undefined ? {} : { noSpeedClaim: s.noSpeedClaim }),
  };
}

function hosted(kernelSubjects: KernelSubject[], stepSubjects: StepSubject[], subjects: SubjectInfo[], skipped: SkippedEntry[], destroy = () => {}): HostedGroup {
  return { subjects, skipped, kernelSubjects, stepSubjects, kernelNames: kernelSubjects.map((s) => s.name), stepNames: stepSubjects.map((s) => s.name), destroy };
}

/** Loads a group; what does not load is a skip with the reason, logged. */
export async function loadGroup(group: SubjectGroup, log: (line: string) => void): Promise<HostedGroup> {
  if (group.kind === 'backend') {
    const loaded = await loadOurBackend(group.name);
    if ('skipped' in loaded) {
      log(`skip ${group.name}: ${loaded.skipped}`);
      return hosted([], [], [], [{ backend: group.name, reason: loaded.skipped }]);
    }
    const { backend, restore, residence } = loaded.subject;
    const subject = contractSubject(backend, restore, residence);
    return hosted([subject], [contractStepSubject(backend, restore)], [describeSubject(subject)], [], () => backend.destroy());
  }
  const kernelName = TFJS_ANCHOR_NAMES[group.engine];
  const layersName = TFJS_LAYERS_NAMES[group.engine];
  const loaded = await loadAnchor(group.engine);
  if ('skipped' in loaded) {
    log(`skip ${kernelName}: ${loaded.skipped}`);
    const names = [...(group.kernels ? [kernelName] : []), ...(group.layers ? [layersName] : [])];
    return hosted([], [], [], names.map((backend) => ({ backend, reason: loaded.skipped })));
  }
  return hosted(group.kernels ? [loaded.subject] : [], group.layers ? [tfjsLayersSubject(group.engine)] : [], [describeSubject(loaded.subject)], []);
}

/** What a child keeps between requests: the group the first request loaded, and the run's settings. */
export interface ChildState {
  group?: HostedGroup;
  settings?: ChildSettings;
}

/** Where a child's messages go: `process.send` in a child process, anything in tests. */
export type Send = (message: ChildMessage) => void;

/**
 * Answers one request. Requests come one at a time (the parent awaits each answer), so
 * `state` holds the group loaded by the first.
 */
export async function answer(message: ParentMessage, state: ChildState, send: Send): Promise<void> {
  const log = (line: string) => send({ type: 'log', line });
  switch (message.type) {
    case 'load': {
      state.settings = message.settings;
      state.group = await loadGroup(message.group, log);
      const { subjects, skipped, kernelNames, stepNames } = state.group;
      send({ type: 'load', subjects, skipped, kernelNames, stepNames });
      return;
    }
    case 'kernels': {
      const { group, settings } = loaded(state);
      const options = { quick: settings.quick, modes: settings.modes, ops: message.ops, log, ...(settings.rounds === undefined ? {} : { rounds: settings.rounds }) };
      send({ type: 'kernels', ...(await runSubjectsOnShape(group.kernelSubjects, message.shape, message.copyMs, options)) });
      return;
    }
    case 'mnist': {
      const { group, settings } = loaded(state);
      send({ type: 'mnist', results: await runMnist(group.stepSubjects, { quick: settings.quick, log }) });
      return;
    }
    case 'close':
      try {
        state.group?.destroy();
      } catch {
        // a backend that cannot tear down cleanly must not hide the results
      }
      send({ type: 'close' });
  }
}

function loaded(state: ChildState): { group: HostedGroup; settings: ChildSettings } {
  if (state.group === undefined || state.settings === undefined) throw new Error('no group loaded: the first request must be load');
  return { group: state.group, settings: state.settings };
}

/** The child's side: answers the parent's requests until it says close or goes away. */
export function serveParent(): void {
  if (process.send === undefined) throw new Error('the bench child runs only as a child process with an IPC channel (see remote/subjectChild.ts)');
  const send: Send = (message) => void process.send!(message);
  const state: ChildState = {};
  process.on('message', (message: ParentMessage) => {
    answer(message, state, send).then(
      () => {
        if (message.type === 'close') process.disconnect();
      },
      (error: unknown) => send({ type: 'error', message: firstLine(error) }),
    );
  });
  // a parent that died or was stopped: nothing is waiting for this process
  process.on('disconnect', () => process.exit(0));
}
