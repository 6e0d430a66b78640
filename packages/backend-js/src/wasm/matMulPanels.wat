;; Source with macros ((@rows4 …), (@high $v), (@params), …: scripts/wat-macros.mjs), expanded and
;; assembled into modules.generated.ts by scripts/compile-wasm.mjs (the build runs it).
;; Rows [r0, r1) of c = op(a)·b (b stored [depth, cols]; a[i, p] at i·depth + p, or at p·rows + i
;; when transposeA), the twin of loops/matMulPanels.ts. `mode`: bit 0 transposeA; bit 1 a and b
;; are float64 copies of the float32 operands (made once per call by the kernel), else float32;
;; bit 2 every value of b is finite, so zero values of a may be left out (float64 version only).
;; `list`: 48·depth bytes of scratch for the float64 version, one per thread.
;; Four output rows and four columns at a time, their sums in float64 registers over the whole
;; depth, so every load of b serves four rows and nothing but c (float32) is written. Each sum
;; adds its products in depth order whatever the blocking or the operands' storage (widening a
;; float32 is exact), so the bits depend on neither. Pointers are byte offsets.
(module
  (import "env" "memory" (memory 1 65535 shared))
  (func (export "matMulPanels")
    (@params)
    (local $transposeA i32) (local $rowStride i32) (local $depthStride i32) (local $bRow i32) (local $cRow i32)
    (local $i i32) (local $j i32) (local $p i32) (local $n i32)
    (local $e i32) (local $f i32) (local $pa i32) (local $pf i32) (local $pb i32) (local $o i32)
    (local $x v128) (local $xlo v128) (local $xhi v128) (local $u v128) (local $w v128)
    (local $s0 v128) (local $s1 v128) (local $t0 v128) (local $t1 v128)
    (local $sa f64) (local $sb f64) (local $bv f64)
    (local $g i32) (local $h i32) (local $pg i32) (local $ph i32)
    (local $g0 v128) (local $g1 v128) (local $h0 v128) (local $h1 v128) (local $y v128) (local $z v128)
    (local $sc f64) (local $sd f64)
    ;; Float64 operands: widened a needs no conversion per product, and its splats are loads.
    (if (i32.and (local.get $mode) (i32.const 2))
      (then
        (call $wide (local.get $a) (local.get $b) (local.get $c) (local.get $rows) (local.get $depth)
          (local.get $cols) (local.get $mode) (local.get $list) (local.get $r0) (local.get $r1))
        (return)))
    (local.set $transposeA (i32.and (local.get $mode) (i32.const 1)))
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
    ;; Four rows at a time (every b vector loaded serves 16 products instead of 8); a last group
    ;; of fewer rows is computed with its last row repeated, and stored once.
    (block $quadsDone (loop $quads
      (br_if $quadsDone (i32.ge_u (local.get $i) (local.get $r1)))
      (local.set $n (i32.sub (local.get $r1) (local.get $i)))
      (local.set $e (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowStride))))
      (local.set $f (select (i32.add (local.get $e) (local.get $rowStride)) (local.get $e) (i32.gt_u (local.get $n) (i32.const 1))))
      (local.set $g (select (i32.add (local.get $f) (local.get $rowStride)) (local.get $f) (i32.gt_u (local.get $n) (i32.const 2))))
      (local.set $h (select (i32.add (local.get $g) (local.get $rowStride)) (local.get $g) (i32.gt_u (local.get $n) (i32.const 3))))
      (local.set $o (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $cRow))))
      (local.set $j (i32.const 0))
      (block $qvecDone (loop $qvec
        (br_if $qvecDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (@set (v128.const i64x2 0 0) $s0 $s1 $t0 $t1 $g0 $g1 $h0 $h1)
        (local.set $pa (local.get $e))
        (local.set $pf (local.get $f))
        (local.set $pg (local.get $g))
        (local.set $ph (local.get $h))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (local.get $depth))
        (block $qdepthDone (loop $qdepth
          (br_if $qdepthDone (i32.eqz (local.get $p)))
          (local.set $x (v128.load (local.get $pb)))
          (local.set $xlo (f64x2.promote_low_f32x4 (local.get $x)))
          (local.set $xhi
            (f64x2.promote_low_f32x4
              (@high $x)))
          (local.set $u (f64x2.splat (f64.promote_f32 (f32.load (local.get $pa)))))
          (local.set $w (f64x2.splat (f64.promote_f32 (f32.load (local.get $pf)))))
          (local.set $y (f64x2.splat (f64.promote_f32 (f32.load (local.get $pg)))))
          (local.set $z (f64x2.splat (f64.promote_f32 (f32.load (local.get $ph)))))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $u) (local.get $xlo))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $u) (local.get $xhi))))
          (local.set $t0 (f64x2.add (local.get $t0) (f64x2.mul (local.get $w) (local.get $xlo))))
          (local.set $t1 (f64x2.add (local.get $t1) (f64x2.mul (local.get $w) (local.get $xhi))))
          (local.set $g0 (f64x2.add (local.get $g0) (f64x2.mul (local.get $y) (local.get $xlo))))
          (local.set $g1 (f64x2.add (local.get $g1) (f64x2.mul (local.get $y) (local.get $xhi))))
          (local.set $h0 (f64x2.add (local.get $h0) (f64x2.mul (local.get $z) (local.get $xlo))))
          (local.set $h1 (f64x2.add (local.get $h1) (f64x2.mul (local.get $z) (local.get $xhi))))
          (@step (local.get $depthStride) $pa $pf $pg $ph)
          (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $qdepth)))
        (v128.store (local.get $o) (@narrow $s0 $s1))
        (if (i32.gt_u (local.get $n) (i32.const 1))
          (then (v128.store (i32.add (local.get $o) (local.get $cRow)) (@narrow $t0 $t1))))
        (if (i32.gt_u (local.get $n) (i32.const 2))
          (then (v128.store (i32.add (local.get $o) (i32.shl (local.get $cRow) (i32.const 1))) (@narrow $g0 $g1))))
        (if (i32.gt_u (local.get $n) (i32.const 3))
          (then (v128.store (i32.add (local.get $o) (i32.mul (local.get $cRow) (i32.const 3))) (@narrow $h0 $h1))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $qvec)))
      ;; The last cols mod 4 columns, one at a time.
      (block $qtailDone (loop $qtail
        (br_if $qtailDone (i32.ge_u (local.get $j) (local.get $cols)))
        (@set (f64.const 0) $sa $sb $sc $sd)
        (local.set $pa (local.get $e))
        (local.set $pf (local.get $f))
        (local.set $pg (local.get $g))
        (local.set $ph (local.get $h))
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $p (local.get $depth))
        (block $qdepthDone (loop $qdepth
          (br_if $qdepthDone (i32.eqz (local.get $p)))
          (local.set $bv (f64.promote_f32 (f32.load (local.get $pb))))
          (local.set $sa (f64.add (local.get $sa) (f64.mul (f64.promote_f32 (f32.load (local.get $pa))) (local.get $bv))))
          (local.set $sb (f64.add (local.get $sb) (f64.mul (f64.promote_f32 (f32.load (local.get $pf))) (local.get $bv))))
          (local.set $sc (f64.add (local.get $sc) (f64.mul (f64.promote_f32 (f32.load (local.get $pg))) (local.get $bv))))
          (local.set $sd (f64.add (local.get $sd) (f64.mul (f64.promote_f32 (f32.load (local.get $ph))) (local.get $bv))))
          (@step (local.get $depthStride) $pa $pf $pg $ph)
          (local.set $pb (i32.add (local.get $pb) (local.get $bRow)))
          (local.set $p (i32.sub (local.get $p) (i32.const 1)))
          (br $qdepth)))
        (f32.store (local.get $o) (f32.demote_f64 (local.get $sa)))
        (if (i32.gt_u (local.get $n) (i32.const 1))
          (then (f32.store (i32.add (local.get $o) (local.get $cRow)) (f32.demote_f64 (local.get $sb)))))
        (if (i32.gt_u (local.get $n) (i32.const 2))
          (then (f32.store (i32.add (local.get $o) (i32.shl (local.get $cRow) (i32.const 1))) (f32.demote_f64 (local.get $sc)))))
        (if (i32.gt_u (local.get $n) (i32.const 3))
          (then (f32.store (i32.add (local.get $o) (i32.mul (local.get $cRow) (i32.const 3))) (f32.demote_f64 (local.get $sd)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $qtail)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $quads))))

  ;; The float64 operands' version: four rows per sweep, a last group of fewer rows computed with
  ;; its last row repeated and stored once. Each group first lists its depth steps in `list`: per
  ;; step its four values of a, contiguous, and the byte offset of b's row, in 48 bytes (16-byte
  ;; aligned entries). With mode bit 2 (b all finite) a step whose four values are all zero is
  ;; left out: its products are zeros, and adding a zero never changes a sum's bits (a sum from +0
  ;; is never −0). Most MNIST pixels are 0.
  (func $wide
    (param $a i32) (param $b i32) (param $c i32) (param $rows i32) (param $depth i32) (param $cols i32)
    (param $mode i32) (param $list i32) (param $r0 i32) (param $r1 i32)
    (local $rowStride i32) (local $depthStride i32) (local $bRow i32) (local $cRow i32) (local $keepAll i32)
    (local $i i32) (local $j i32) (local $p i32) (local $n i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $entry i32) (local $end i32) (local $bOffset i32) (local $pb i32) (local $row i32) (local $o i32)
    (local $ua f64) (local $uf f64) (local $ug f64) (local $uh f64)
    (local $xlo v128) (local $xhi v128) (local $u v128)
    (local $s0 v128) (local $s1 v128) (local $t0 v128) (local $t1 v128)
    (local $g0 v128) (local $g1 v128) (local $h0 v128) (local $h1 v128)
    (local $sa f64) (local $sb f64) (local $sc f64) (local $sd f64) (local $bv f64)
    (if (i32.and (local.get $mode) (i32.const 1))
      (then
        (local.set $rowStride (i32.const 8))
        (local.set $depthStride (i32.shl (local.get $rows) (i32.const 3))))
      (else
        (local.set $rowStride (i32.shl (local.get $depth) (i32.const 3)))
        (local.set $depthStride (i32.const 8))))
    (local.set $keepAll (i32.eqz (i32.and (local.get $mode) (i32.const 4))))
    (local.set $bRow (i32.shl (local.get $cols) (i32.const 3)))
    (local.set $cRow (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $i (local.get $r0))
    (block $rowsDone (loop $rowsLoop
      (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $r1)))
      (local.set $n (i32.sub (local.get $r1) (local.get $i)))
      (local.set $e (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowStride))))
      (local.set $f (select (i32.add (local.get $e) (local.get $rowStride)) (local.get $e) (i32.gt_u (local.get $n) (i32.const 1))))
      (local.set $g (select (i32.add (local.get $f) (local.get $rowStride)) (local.get $f) (i32.gt_u (local.get $n) (i32.const 2))))
      (local.set $h (select (i32.add (local.get $g) (local.get $rowStride)) (local.get $g) (i32.gt_u (local.get $n) (i32.const 3))))
      ;; The group's depth list, written without branches: each step is stored, and the end moves
      ;; past it unless it may be left out.
      (local.set $entry (local.get $list))
      (local.set $bOffset (i32.const 0))
      (local.set $p (local.get $depth))
      (block $listDone (loop $listLoop
        (br_if $listDone (i32.eqz (local.get $p)))
        (local.set $ua (f64.load (local.get $e)))
        (local.set $uf (f64.load (local.get $f)))
        (local.set $ug (f64.load (local.get $g)))
        (local.set $uh (f64.load (local.get $h)))
        (f64.store (local.get $entry) (local.get $ua))
        (f64.store offset=8 (local.get $entry) (local.get $uf))
        (f64.store offset=16 (local.get $entry) (local.get $ug))
        (f64.store offset=24 (local.get $entry) (local.get $uh))
        (i32.store offset=32 (local.get $entry) (local.get $bOffset))
        (local.set $entry (i32.add (local.get $entry) (i32.mul (i32.const 48)
          (i32.or
            (i32.or (local.get $keepAll) (f64.ne (local.get $ua) (f64.const 0)))
            (i32.or
              (i32.or (f64.ne (local.get $uf) (f64.const 0)) (f64.ne (local.get $ug) (f64.const 0)))
              (f64.ne (local.get $uh) (f64.const 0)))))))
        (@step (local.get $depthStride) $e $f $g $h)
        (local.set $bOffset (i32.add (local.get $bOffset) (local.get $bRow)))
        (local.set $p (i32.sub (local.get $p) (i32.const 1)))
        (br $listLoop)))
      (local.set $end (local.get $entry))
      (local.set $o (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $cRow))))
      (local.set $j (i32.const 0))
      (block $vecDone (loop $vec
        (br_if $vecDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $cols)))
        (@set (v128.const i64x2 0 0) $s0 $s1 $t0 $t1 $g0 $g1 $h0 $h1)
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $entry (local.get $list))
        (block $depthDone (loop $depthLoop
          (br_if $depthDone (i32.ge_u (local.get $entry) (local.get $end)))
          (local.set $row (i32.add (local.get $pb) (i32.load offset=32 (local.get $entry))))
          (local.set $xlo (v128.load (local.get $row)))
          (local.set $xhi (v128.load offset=16 (local.get $row)))
          (local.set $u (v128.load64_splat (local.get $entry)))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $u) (local.get $xlo))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $u) (local.get $xhi))))
          (local.set $u (v128.load64_splat offset=8 (local.get $entry)))
          (local.set $t0 (f64x2.add (local.get $t0) (f64x2.mul (local.get $u) (local.get $xlo))))
          (local.set $t1 (f64x2.add (local.get $t1) (f64x2.mul (local.get $u) (local.get $xhi))))
          (local.set $u (v128.load64_splat offset=16 (local.get $entry)))
          (local.set $g0 (f64x2.add (local.get $g0) (f64x2.mul (local.get $u) (local.get $xlo))))
          (local.set $g1 (f64x2.add (local.get $g1) (f64x2.mul (local.get $u) (local.get $xhi))))
          (local.set $u (v128.load64_splat offset=24 (local.get $entry)))
          (local.set $h0 (f64x2.add (local.get $h0) (f64x2.mul (local.get $u) (local.get $xlo))))
          (local.set $h1 (f64x2.add (local.get $h1) (f64x2.mul (local.get $u) (local.get $xhi))))
          (local.set $entry (i32.add (local.get $entry) (i32.const 48)))
          (br $depthLoop)))
        (v128.store (local.get $o) (@narrow $s0 $s1))
        (if (i32.gt_u (local.get $n) (i32.const 1))
          (then
            (v128.store (i32.add (local.get $o) (local.get $cRow)) (@narrow $t0 $t1))))
        (if (i32.gt_u (local.get $n) (i32.const 2))
          (then
            (v128.store (i32.add (local.get $o) (i32.shl (local.get $cRow) (i32.const 1))) (@narrow $g0 $g1))))
        (if (i32.gt_u (local.get $n) (i32.const 3))
          (then
            (v128.store (i32.add (local.get $o) (i32.mul (local.get $cRow) (i32.const 3))) (@narrow $h0 $h1))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $vec)))
      ;; The last cols mod 4 columns, one at a time.
      (block $tailDone (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $j) (local.get $cols)))
        (@set (f64.const 0) $sa $sb $sc $sd)
        (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $entry (local.get $list))
        (block $depthDone (loop $depthLoop
          (br_if $depthDone (i32.ge_u (local.get $entry) (local.get $end)))
          (local.set $bv (f64.load (i32.add (local.get $pb) (i32.load offset=32 (local.get $entry)))))
          (local.set $sa (f64.add (local.get $sa) (f64.mul (f64.load (local.get $entry)) (local.get $bv))))
          (local.set $sb (f64.add (local.get $sb) (f64.mul (f64.load offset=8 (local.get $entry)) (local.get $bv))))
          (local.set $sc (f64.add (local.get $sc) (f64.mul (f64.load offset=16 (local.get $entry)) (local.get $bv))))
          (local.set $sd (f64.add (local.get $sd) (f64.mul (f64.load offset=24 (local.get $entry)) (local.get $bv))))
          (local.set $entry (i32.add (local.get $entry) (i32.const 48)))
          (br $depthLoop)))
        (f32.store (local.get $o) (f32.demote_f64 (local.get $sa)))
        (if (i32.gt_u (local.get $n) (i32.const 1))
          (then (f32.store (i32.add (local.get $o) (local.get $cRow)) (f32.demote_f64 (local.get $sb)))))
        (if (i32.gt_u (local.get $n) (i32.const 2))
          (then (f32.store (i32.add (local.get $o) (i32.shl (local.get $cRow) (i32.const 1))) (f32.demote_f64 (local.get $sc)))))
        (if (i32.gt_u (local.get $n) (i32.const 3))
          (then (f32.store (i32.add (local.get $o) (i32.mul (local.get $cRow) (i32.const 3))) (f32.demote_f64 (local.get $sd)))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $rowsLoop))))
)
