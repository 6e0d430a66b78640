import { describe, expect, it } from 'vitest';

type ExpandWat = (name: string, text: string, params: Record<string, readonly string[]>) => string;
// A plain .mjs build script (no declarations): typed here by what the test uses.
const { expandWat } = (await import('../../scripts/wat-macros.mjs' as string)) as { expandWat: ExpandWat };

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
const module = (body: string, params = '(param $x i32) (param $r0 i32) (param $r1 i32)') =>
  `(module (func (export "f") ${params} (local $v v128) ${body}))`;
const table = { f: ['x:f32', 'r0', 'r1'] };

describe('the .wat macros (scripts/wat-macros.mjs)', () => {
  it('(@rows4 …) repeats its body for rows 0-3, (@row $p) moving $p by $rb, $rb2, $rb3', () => {
    const out = expandWat('f', module('(@rows4 (v128.store (@row $q) (v128.load (@row $p))))'), table);
    expect(squash(out)).toContain(
      squash(`(v128.store (local.get $q) (v128.load (local.get $p)))
        (v128.store (i32.add (local.get $q) (local.get $rb)) (v128.load (i32.add (local.get $p) (local.get $rb))))
        (v128.store (i32.add (local.get $q) (local.get $rb2)) (v128.load (i32.add (local.get $p) (local.get $rb2))))
        (v128.store (i32.add (local.get $q) (local.get $rb3)) (v128.load (i32.add (local.get $p) (local.get $rb3))))`),
    );
  });

  it('(@estrin T ($x $x2) c0 c1 c2 c3 c4) pairs terms with x, then with x², …', () => {
    expect(squash(expandWat('f', module('(@estrin f64 ($r $r2) 0 1 2 3)'), table))).toContain(
      '(f64.add (f64.add (f64.const 0) (f64.mul (f64.const 1) (local.get $r))) (f64.mul (f64.add (f64.const 2) (f64.mul (f64.const 3) (local.get $r))) (local.get $r2)))',
    );
    // An odd count: the last term waits for the next level.
    expect(squash(expandWat('f', module('(@estrin f64x2 ($r $r2) 0.5 1 2)'), table))).toContain(
      '(f64x2.add (f64x2.add (v128.const f64x2 0.5 0.5) (f64x2.mul (v128.const f64x2 1 1) (local.get $r))) (f64x2.mul (v128.const f64x2 2 2) (local.get $r2)))',
    );
    expect(() => expandWat('f', module('(@estrin f64 ($r) 1 2 3)'), table)).toThrow('need more powers');
    expect(() => expandWat('f', module('(@estrin f32 ($r) 1 2)'), table)).toThrow('f64 or f64x2');
  });

  it('(@high $v), (@join a b) and (@narrow $a $b) are the lane shuffles, written once', () => {
    const out = squash(expandWat('f', module('(@high $v) (@join (local.get $a) (local.get $b)) (@narrow $s $t)'), table));
    expect(out).toContain('(i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v))');
    expect(out).toContain('(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b))');
    expect(out).toContain(
      '(i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (f32x4.demote_f64x2_zero (local.get $s)) (f32x4.demote_f64x2_zero (local.get $t)))',
    );
  });

  it('(@params) writes the table’s parameters, all i32', () => {
    const out = expandWat('f', module('', '(@params)'), table);
    expect(squash(out)).toContain('(func (export "f") (param $x i32) (param $r0 i32) (param $r1 i32)');
  });

  it('refuses parameters written out that differ from the table (the twins cannot drift apart)', () => {
    const swapped = module('', '(param $x i32) (param $r1 i32) (param $r0 i32)');
    expect(() => expandWat('f', swapped, table)).toThrow('f.wat takes (x r1 r0), LOOP_PARAMETERS says (x r0 r1)');
  });

  it('leaves a macro in a comment alone and refuses an unknown one', () => {
    const commented = module(';; see (@rows4 …)\n(nop)');
    expect(expandWat('f', commented, table)).toBe(commented);
    expect(() => expandWat('f', module('(@twice (nop))'), table)).toThrow('unknown macro (@twice …)');
    expect(() => expandWat('f', module('(@high (local.get $v))'), table)).toThrow('(@high …) takes a local');
  });
});
