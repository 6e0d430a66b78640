const BRIEF_LENGTH = 60;
const BRIEF_DEPTH = 4;

/**
 * `value` for a message: its JSON, cut at 60 characters and 4 levels. Written out here rather than
 * by `JSON.stringify`, which overflows the stack on a value nested 10⁵ deep, throws on a cycle or
 * a bigint, and writes a long array whole before it could be cut.
 */
export function brief(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text = '';
  const full = (): boolean => text.length > BRIEF_LENGTH;
  const write = (v: unknown, depth: number): void => {
    if (typeof v === 'string') text += JSON.stringify(v.slice(0, BRIEF_LENGTH + 1));
    else if (typeof v === 'number') text += Number.isFinite(v) ? JSON.stringify(v) : String(v);
    else if (typeof v === 'bigint') text += `${v}n`;
    else if (typeof v === 'function') text += 'a function';
    else if (typeof v !== 'object' || v === null) text += String(v);
    else if (depth >= BRIEF_DEPTH) text += '…';
    else if (Array.isArray(v)) {
      text += '[';
      for (let i = 0; i < v.length && !full(); i++) {
        if (i > 0) text += ',';
        write(v[i], depth + 1);
      }
      text += ']';
    } else {
      text += '{';
      for (const [i, key] of Object.keys(v).entries()) {
        if (full()) break;
        text += `${i > 0 ? ',' : ''}${JSON.stringify(key)}:`;
        write((v as Record<string, unknown>)[key], depth + 1);
      }
      text += '}';
    }
  };
  write(value, 0);
  if (!full()) return text;
  const cut = text.slice(0, BRIEF_LENGTH - 3);
  return cut.endsWith('…') ? cut : `${cut}…`;
}
