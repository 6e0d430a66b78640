import { BatchNormError, describeValue } from './errors.js';

/** Edit distance of at most 2 between `a` and `b` (a typo such as `mdoe`, `thread`), for hints. */
function isNear(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 2) return false;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? previous[j - 2]! : Infinity;
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1), swap));
    }
    previous = row;
  }
  return previous[b.length]! <= 2;
}

/**
 * A backend factory's `options` as a record, checked: an object whose every key is one of `known`. A misspelled or
 * foreign option (`{ mdoe: 'cpu' }`, `{ threads: 2 }`) would otherwise be ignored without a word.
 *
 * @throws BatchNormError `INVALID_ARGUMENT` naming the first unknown key (`options.mdoe`), every
 * unknown key received, and the known ones.
 */
export function checkedOptions(
  options: unknown,
  known: readonly string[],
  example: string,
): Readonly<Record<string, unknown>> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: 'options',
      expected: `an object such as ${example}`,
      received: describeValue(options),
    });
  }
  const record: Readonly<Record<string, unknown>> = { ...options };
  const unknown = Object.keys(record).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    const list = (keys: readonly string[]): string => keys.map((key) => `"${key}"`).join(', ');
    const near = known.filter((key) => isNear(unknown[0]!.toLowerCase(), key.toLowerCase()));
    throw new BatchNormError({
      code: 'INVALID_ARGUMENT',
      argument: `options.${unknown[0]}`,
      expected: known.length === 0 ? 'no options' : `only the options ${list(known)}`,
      received: `unknown option${unknown.length > 1 ? 's' : ''} ${list(unknown)}`,
      hint:
        known.length === 0
          ? 'It takes no options.'
          : near.length > 0
            ? `Did you mean ${list(near)}?`
            : `The known options: ${list(known)}.`,
    });
  }
  return record;
}
