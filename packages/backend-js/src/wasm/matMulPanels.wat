;; Rows [r0, r1) of c = op(a)·b (b stored [depth, cols]; a[i, p] at i·depth + p, or at p·rows + i
;; when transposeA), the twin of loops/matMulPanels.ts. Two output rows and four columns at a
;; time, their sums in float64 registers over the whole depth, so every load of b serves two
;; rows and nothing but c is written. Pointers are byte offsets; a, b, c: float32.
(module
  (import "env" "memory" (memory 1 65535 shared))
  (func (export "matMulPanels")
    (param $a i32) (param $b i32) (param $c i32) (param $rows i32) (param $depth i32) (param $cols i32)
    (param $transposeA i32) (param $r0 i32) (param $r1 i32)
    (local $rowStride i32) (local $depthStride i32) (local $bRow i32) (local $cRow i32)
    (local $i i32) (local $j i32) (local $p i32) (local $pair i32)
    (local $e i32) (local $f i32) (local $pa i32) (local $pf i32) (local $pb i32) (local $o i32)
    (local $x v128) (local $xlo v128) (local $xhi v128) (local $u v128) (local $w v128)
    (local $s0 v128) (local $s1 v128) (local $t0 v128) (local $t1 v128)
    (local $sa f64) (local $sb f64) (local $bv f64)
    ;; Strides in bytes.
    (if (local.get $transposeA)
      (then
        (local.set $rowStride (i32.const 4))
        (local.set $depthStride (i32.shl (local.get $rows) (i32.const 2))))
      (else
        (local.set $rowStride (i32.shl (local.get $depth) (i32.const 2)))
        (local.set $depthStride (i32.const 4))))
    (local.set $bRow (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $cRow (local.get $bRow))
    (local.set $i (local.get $r0))
    (block $rowsDone (loop $rowsLoop
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $r1)))
      (local.set $pair (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $r1)))
      (local.set $e (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowStride))))
      ;; A lone last row is computed twice and stored once.
      (local.set $f (select (i32.add (local.get $e) (local.get $rowStride)) (local.get $e) (local.get $pair)))
      (local.set $o (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $cRow))))
      (local.set $j (i32.const 0))
      (block $vecDone (loop $vec
        (br_if $vecDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (local.set $s0 (v128.const i64x2 0 0))
        (local.set $s1 (v128.const i64x2 0 0))
        (local.set $t0 (v128.const i64x2 0 0))
        (local.set $t1 (v128.const i64x2 0 0))
        (local.set $pa (local.get $e))
        (local.set $pf (local.get $f))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (local.get $depth))
        (block $depthDone (loop $depthLoop
          (br_if $depthDone (i32.eqz (local.get $p)))
          (local.set $x (v128.load (local.get $pb)))
          (local.set $xlo (f64x2.promote_low_f32x4 (local.get $x)))
          (local.set $xhi
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $x) (local.get $x))))
          (local.set $u (f64x2.splat (f64.promote_f32 (f32.load (local.get $pa)))))
          (local.set $w (f64x2.splat (f64.promote_f32 (f32.load (local.get $pf)))))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $u) (local.get $xlo))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $u) (local.get $xhi))))
          (local.set $t0 (f64x2.add (local.get $t0) (f64x2.mul (local.get $w) (local.get $xlo))))
          (local.set $t1 (f64x2.add (local.get $t1) (f64x2.mul (local.get $w) (local.get $xhi))))
          (local.set $pa (i32.add (local.get $pa) (local.get $depthStride)))
          (local.set $pf (i32.add (local.get $pf) (local.get $depthStride)))
          (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $depthLoop)))
        (v128.store (local.get $o)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $s0)) (f32x4.demote_f64x2_zero (local.get $s1))))
        (if (local.get $pair)
          (then
            (v128.store (i32.add (local.get $o) (local.get $cRow))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero (local.get $t0)) (f32x4.demote_f64x2_zero (local.get $t1))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
      ;; The last cols mod 4 columns, one at a time.
      (block $tailDone (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $j) (local.get $cols)))
        (local.set $sa (f64.const 0))
        (local.set $sb (f64.const 0))
        (local.set $pa (local.get $e))
        (local.set $pf (local.get $f))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (local.get $depth))
        (block $depthDone (loop $depthLoop
          (br_if $depthDone (i32.eqz (local.get $p)))
          (local.set $bv (f64.promote_f32 (f32.load (local.get $pb))))
          (local.set $sa (f64.add (local.get $sa) (f64.mul (f64.promote_f32 (f32.load (local.get $pa))) (local.get $bv))))
          (local.set $sb (f64.add (local.get $sb) (f64.mul (f64.promote_f32 (f32.load (local.get $pf))) (local.get $bv))))
          (local.set $pa (i32.add (local.get $pa) (local.get $depthStride)))
          (local.set $pf (i32.add (local.get $pf) (local.get $depthStride)))
          (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $depthLoop)))
        (f32.store (local.get $o) (f32.demote_f64 (local.get $sa)))
        (if (local.get $pair)
          (then (f32.store (i32.add (local.get $o) (local.get $cRow)) (f32.demote_f64 (local.get $sb)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
      (local.set $i (i32.add (local.get $i) (i32.const 2)))
      (br $rowsLoop))))
)
