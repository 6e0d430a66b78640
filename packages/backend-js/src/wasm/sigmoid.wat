;; Source with macros ((@horner …), (@params), …: scripts/wat-macros.mjs), expanded and assembled
;; into modules.generated.ts by scripts/compile-wasm.mjs (the build runs it).
;; y = 1/(1 + e^(−x)) for elements [r0, r1), the twin of loops/sigmoid.ts: the same float64
;; operations in the same order, two values per step, so the same bits. t = −x clamped to ±200;
;; k = nearest(t/ln2) by adding and subtracting 1.5·2⁵², whose sum also holds k in its low bits,
;; from which 2^k's exponent is made; r = t − k·ln2hi − k·ln2lo; e^r by its Taylor polynomial
;; of degree 13 in Estrin's scheme (a short dependency chain). Pointers are byte offsets; x, y: float32.
(module
  (import "env" "memory" (memory 1 65535 shared))
  (func (export "sigmoid")
    (@params)
    (local $p i32) (local $q i32) (local $end i32)
    (local $t v128) (local $shifted v128) (local $k v128) (local $r v128) (local $r2 v128) (local $r4 v128) (local $r8 v128)
    (local $ts f64) (local $shifteds f64) (local $ks f64) (local $rs f64) (local $r2s f64) (local $r4s f64) (local $r8s f64)
    (local.set $p (i32.add (local.get $x) (i32.shl (local.get $r0) (i32.const 2))))
    (local.set $q (i32.add (local.get $y) (i32.shl (local.get $r0) (i32.const 2))))
    (local.set $end (i32.add (local.get $x) (i32.shl (local.get $r1) (i32.const 2))))
    (block $pairsDone (loop $pairs
      (br_if $pairsDone (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
      ;; pmax/pmin (t < −200 ? −200 : t): one instruction each, and NaN stays NaN.
      (local.set $t
        (f64x2.pmin
          (f64x2.pmax (f64x2.neg (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p)))) (v128.const f64x2 -200 -200))
          (v128.const f64x2 200 200)))
      (local.set $shifted (f64x2.add (f64x2.mul (local.get $t) (v128.const f64x2 1.4426950408889634 1.4426950408889634))
        (v128.const f64x2 6755399441055744 6755399441055744)))
      (local.set $k (f64x2.sub (local.get $shifted) (v128.const f64x2 6755399441055744 6755399441055744)))
      (local.set $r (f64x2.sub (f64x2.sub (local.get $t) (f64x2.mul (local.get $k) (v128.const f64x2 0.6931471803691238 0.6931471803691238)))
        (f64x2.mul (local.get $k) (v128.const f64x2 1.9082149292705877e-10 1.9082149292705877e-10))))
      (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
      (local.set $r4 (f64x2.mul (local.get $r2) (local.get $r2)))
      (local.set $r8 (f64x2.mul (local.get $r4) (local.get $r4)))
      (v128.store64_lane 0 (local.get $q)
        (f32x4.demote_f64x2_zero
          (f64x2.div (v128.const f64x2 1 1)
            (f64x2.add (v128.const f64x2 1 1)
              (f64x2.mul
                (@estrin f64x2 ($r $r2 $r4 $r8) 1 1 0.5 0.16666666666666666 0.041666666666666664 0.008333333333333333
                  0.001388888888888889 0.0001984126984126984 2.48015873015873e-5 2.7557319223985893e-6
                  2.755731922398589e-7 2.505210838544172e-8 2.08767569878681e-9 1.6059043836821613e-10)
                ;; 2^k: the low bits of `shifted` are k (1.5·2⁵²'s are 0), so (k + 1023) << 52.
                (i64x2.shl (i64x2.add (local.get $shifted) (v128.const i64x2 1023 1023)) (i32.const 52)))))))
      (local.set $p (i32.add (local.get $p) (i32.const 8)))
      (local.set $q (i32.add (local.get $q) (i32.const 8)))
      (br $pairs)))
    ;; A last odd value: the same operations on one lane.
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (local.set $ts (f64.neg (f64.promote_f32 (f32.load (local.get $p)))))
        (local.set $ts (select (f64.const -200) (local.get $ts) (f64.lt (local.get $ts) (f64.const -200))))
        (local.set $ts (select (f64.const 200) (local.get $ts) (f64.lt (f64.const 200) (local.get $ts))))
        (local.set $shifteds (f64.add (f64.mul (local.get $ts) (f64.const 1.4426950408889634)) (f64.const 6755399441055744)))
        (local.set $ks (f64.sub (local.get $shifteds) (f64.const 6755399441055744)))
        (local.set $rs (f64.sub (f64.sub (local.get $ts) (f64.mul (local.get $ks) (f64.const 0.6931471803691238)))
          (f64.mul (local.get $ks) (f64.const 1.9082149292705877e-10))))
        (local.set $r2s (f64.mul (local.get $rs) (local.get $rs)))
        (local.set $r4s (f64.mul (local.get $r2s) (local.get $r2s)))
        (local.set $r8s (f64.mul (local.get $r4s) (local.get $r4s)))
        (f32.store (local.get $q)
          (f32.demote_f64
            (f64.div (f64.const 1)
              (f64.add (f64.const 1)
                (f64.mul
                  (@estrin f64 ($rs $r2s $r4s $r8s) 1 1 0.5 0.16666666666666666 0.041666666666666664 0.008333333333333333
                    0.001388888888888889 0.0001984126984126984 2.48015873015873e-5 2.7557319223985893e-6
                    2.755731922398589e-7 2.505210838544172e-8 2.08767569878681e-9 1.6059043836821613e-10)
                  (f64.reinterpret_i64
                    (i64.shl (i64.add (i64.reinterpret_f64 (local.get $shifteds)) (i64.const 1023)) (i64.const 52)))))))))))
)
