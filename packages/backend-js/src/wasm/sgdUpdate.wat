;; Source with macros ((@params), …: scripts/wat-macros.mjs), expanded and assembled into
;; modules.generated.ts by scripts/compile-wasm.mjs (the build runs it).
;; param[i] −= rate·grad[i] for elements [r0, r1), the twin of loops/sgdUpdate.ts: in float64,
;; rounded once, two values per step (the same bits). Pointers are byte offsets; param, grad:
;; float32; rate: one float64.
(module
  (import "env" "memory" (memory 1 65535 shared))
  (func (export "sgdUpdate")
    (@params)
    (local $p i32) (local $g i32) (local $end i32) (local $r v128)
    (local.set $r (v128.load64_splat (local.get $rate)))
    (local.set $p (i32.add (local.get $param) (i32.shl (local.get $r0) (i32.const 2))))
    (local.set $g (i32.add (local.get $grad) (i32.shl (local.get $r0) (i32.const 2))))
    (local.set $end (i32.add (local.get $param) (i32.shl (local.get $r1) (i32.const 2))))
    (block $pairsDone (loop $pairs
      (br_if $pairsDone (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
      (v128.store64_lane 0 (local.get $p)
        (f32x4.demote_f64x2_zero
          (f64x2.sub (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))
            (f64x2.mul (local.get $r) (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $g)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $g (i32.add (local.get $g) (i32.const 8)))
      (br $pairs)))
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (f32.store (local.get $p)
          (f32.demote_f64
            (f64.sub (f64.promote_f32 (f32.load (local.get $p)))
              (f64.mul (f64.load (local.get $rate)) (f64.promote_f32 (f32.load (local.get $g))))))))))
)
