/* global URL, Buffer */
// Expands the macros of src/wasm/*.wat into plain WebAssembly text, for compile-wasm.mjs. A macro
// is an S-expression whose head starts with `@`; everything else passes through unchanged.
//   (@params)       the exported function's parameters, from LOOP_PARAMETERS (src/loops/signatures.ts)
//   (@high $v)      the upper two float32 lanes of $v moved down, for f64x2.promote_low_f32x4
//   (@join A B)     the low halves of A and B (two f32x4.demote_f64x2_zero results) as one vector
//   (@set V $a $b …)   $a, $b, … each set to V
//   (@step S $a $b …)  $a, $b, … each moved on by S (i32.add)
//   (@narrow $lo $hi)  two f64x2 locals rounded to float32, as one f32x4 ($lo's lanes first)
//   (@rowStrides)   $rb, $rb2, $rb3: the byte offsets of rows 1, 2 and 3 of a channels-last block
//   (@rows4 body…)  the body four times, for rows 0-3 of a block; in it, (@row $p) is $p moved
//                   to that row ($p, $p + $rb, $p + $rb2, $p + $rb3)
//   (@estrin T ($x $x2 $x4 …) c₀ … cₙ)  c₀ + c₁·x + … + cₙ·xⁿ by Estrin's scheme (pairs
//                   a + b·x, then pairs of those with x², x⁴, …: a short dependency chain),
//                   T f64 or f64x2 (constants splat); $x2, $x4, … hold x², x⁴, …
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const HIGH_LANES = '8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15';
const LOW_HALVES = '0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23';
const ROW_OFFSETS = [null, '$rb', '$rb2', '$rb3'];

/** LOOP_PARAMETERS, read from the TypeScript table (it has no imports, so it runs on its own). */
export async function loopParameters() {
  const file = new URL('../src/loops/signatures.ts', import.meta.url);
  const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const module = await import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
  return module.LOOP_PARAMETERS;
}

/** The index after the S-expression or atom that starts at `i` (comments skipped, not inside). */
function endOf(text, i) {
  if (text[i] !== '(') return i + /^[^\s()]*/.exec(text.slice(i))[0].length;
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    if (text.startsWith(';;', j)) j = text.indexOf('\n', j);
    else if (text[j] === '(') depth++;
    else if (text[j] === ')' && --depth === 0) return j + 1;
    if (j < 0) break;
  }
  throw new Error(`unbalanced parentheses from: ${text.slice(i, i + 60)}`);
}

/** The operands of the S-expression `(head a b …)` as text. */
function operands(form) {
  const inner = form.slice(1, -1);
  const items = [];
  let i = /^\S+/.exec(inner)[0].length;
  for (;;) {
    while (/\s/.test(inner[i] ?? '')) i++;
    if (i >= inner.length) return items;
    const end = endOf(inner, i);
    items.push(inner.slice(i, end));
    i = end;
  }
}

function local(operand, macro) {
  if (!/^\$\w+$/.test(operand)) throw new Error(`(${macro} …) takes a local, not ${operand}`);
  return `(local.get ${operand})`;
}

function expandMacro(form, context) {
  const head = /^\(@(\w+)/.exec(form)[1];
  const args = operands(form);
  switch (head) {
    case 'params': {
      const params = context.parameters;
      if (params === undefined) throw new Error(`(@params): ${context.name} is not in LOOP_PARAMETERS`);
      return params.map((p) => `(param $${p.split(':')[0]} i32)`).join(' ');
    }
    case 'high': {
      const v = local(args[0], '@high');
      return `(i8x16.shuffle ${HIGH_LANES} ${v} ${v})`;
    }
    case 'join':
      if (args.length !== 2) throw new Error('(@join A B) takes two operands');
      return `(i8x16.shuffle ${LOW_HALVES} ${args[0]} ${args[1]})`;
    case 'narrow':
      return `(@join (f32x4.demote_f64x2_zero ${local(args[0], '@narrow')}) (f32x4.demote_f64x2_zero ${local(args[1], '@narrow')}))`;
    case 'set':
      return args.slice(1).map((a) => `(local.set ${a} ${args[0]})`).join('\n');
    case 'step':
      return args.slice(1).map((a) => `(local.set ${a} (i32.add ${local(a, '@step')} ${args[0]}))`).join('\n');
    case 'rowStrides':
      return [
        '(local.set $rb (i32.shl (local.get $channels) (i32.const 2)))',
        '(local.set $rb2 (i32.shl (local.get $rb) (i32.const 1)))',
        '(local.set $rb3 (i32.add (local.get $rb2) (local.get $rb)))',
      ].join('\n');
    case 'rows4': {
      const body = args.join('\n');
      return ROW_OFFSETS.map((offset) =>
        body.replace(/\(@row (\$\w+)\)/g, (_, p) =>
          offset === null ? `(local.get ${p})` : `(i32.add (local.get ${p}) (local.get ${offset}))`,
        ),
      ).join('\n');
    }
    case 'estrin': {
      const [type, powersForm, ...coefficients] = args;
      if (type !== 'f64' && type !== 'f64x2') throw new Error(`(@estrin T …) takes f64 or f64x2, not ${type}`);
      const powers = powersForm.slice(1, -1).trim().split(/\s+/);
      let terms = coefficients.map((c) => (type === 'f64' ? `(f64.const ${c})` : `(v128.const f64x2 ${c} ${c})`));
      for (const power of powers) {
        if (terms.length === 1) break;
        const next = [];
        for (let i = 0; i < terms.length; i += 2) {
          next.push(i + 1 < terms.length ? `(${type}.add ${terms[i]} (${type}.mul ${terms[i + 1]} ${local(power, '@estrin')}))` : terms[i]);
        }
        terms = next;
      }
      if (terms.length !== 1) throw new Error(`(@estrin …): ${coefficients.length} coefficients need more powers than ${powers.join(' ')}`);
      return terms[0];
    }
    default:
      throw new Error(`unknown macro (@${head} …)`);
  }
}

/** The parameter names of the function exported as `name`, as written in the expanded text. */
function exportedParameters(text, name) {
  const start = text.indexOf(`(func (export "${name}")`);
  if (start < 0) throw new Error(`${name}.wat exports no function "${name}"`);
  const head = text.slice(start, text.indexOf('(local ', start));
  return [...head.matchAll(/\(param (\$\w+) i32\)/g)].map((m) => m[1].slice(1));
}

function expand(text, context) {
  let out = '';
  let i = 0;
  for (;;) {
    const at = text.indexOf('(@', i);
    if (at < 0) return out + text.slice(i);
    // A macro inside a comment is text, not a macro.
    if (text.slice(text.lastIndexOf('\n', at) + 1, at).includes(';;')) {
      out += text.slice(i, at + 2);
      i = at + 2;
      continue;
    }
    const end = endOf(text, at);
    out += text.slice(i, at) + expand(expandMacro(text.slice(at, end), context), context);
    i = end;
  }
}

/**
 * `text` (the source of `name`.wat) with every macro expanded. When the module's function is one
 * of LOOP_PARAMETERS, its parameters must be the table's (written out or by (@params)), so the
 * JavaScript loop and its twin cannot drift apart.
 */
export function expandWat(name, text, loopParams) {
  const context = { name, parameters: loopParams[name] };
  const out = expand(text, context);
  if (context.parameters !== undefined) {
    const written = exportedParameters(out, name).join(' ');
    const table = context.parameters.map((p) => p.split(':')[0]).join(' ');
    if (written !== table) throw new Error(`${name}.wat takes (${written}), LOOP_PARAMETERS says (${table})`);
  }
  return out;
}
