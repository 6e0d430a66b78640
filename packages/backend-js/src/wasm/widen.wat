;; Source with macros ((@rows4 …), (@high $v), (@params), …: scripts/wat-macros.mjs), expanded and
;; assembled into modules.generated.ts by scripts/compile-wasm.mjs (the build runs it).
;; to[i] = from[i] as float64 for i < n: the float64 copies of matMul's operands. A typed-array
;; set() from float32 to float64 over shared memory takes an element-by-element slow path in V8,
;; about five times slower than this. Pointers are byte offsets; from: float32, to: float64.
;; Returns 1 when every value is finite, else 0 (x − x is 0 for a finite x, NaN otherwise).
(module
  (import "env" "memory" (memory 1 65535 shared))
  (func (export "widen") (param $from i32) (param $to i32) (param $n i32) (result i32)
    (local $end i32) (local $v v128) (local $nonFinite v128) (local $tailNonFinite i32)
    (local.set $end (i32.add (local.get $from) (i32.shl (local.get $n) (i32.const 2))))
    (block $vecDone (loop $vec
      (br_if $vecDone (i32.gt_u (i32.add (local.get $from) (i32.const 16)) (local.get $end)))
      (local.set $v (v128.load (local.get $from)))
      (local.set $nonFinite (v128.or (local.get $nonFinite) (f32x4.sub (local.get $v) (local.get $v))))
      (v128.store (local.get $to) (f64x2.promote_low_f32x4 (local.get $v)))
      (v128.store offset=16 (local.get $to)
        (f64x2.promote_low_f32x4
          (@high $v)))
      (local.set $from (i32.add (local.get $from) (i32.const 16)))
      (local.set $to (i32.add (local.get $to) (i32.const 32)))
      (br $vec)))
    (block $tailDone (loop $tail
      (br_if $tailDone (i32.ge_u (local.get $from) (local.get $end)))
      (f64.store (local.get $to) (f64.promote_f32 (f32.load (local.get $from))))
      (local.set $tailNonFinite
        (i32.or (local.get $tailNonFinite)
          (i32.reinterpret_f32 (f32.sub (f32.load (local.get $from)) (f32.load (local.get $from))))))
      (local.set $from (i32.add (local.get $from) (i32.const 4)))
      (local.set $to (i32.add (local.get $to) (i32.const 8)))
      (br $tail)))
    (i32.eqz (i32.or (v128.any_true (local.get $nonFinite)) (local.get $tailNonFinite))))
)
