;; Source with macros ((@rows4 …), (@params), …: scripts/wat-macros.mjs), expanded and assembled
;; into modules.generated.ts by scripts/compile-wasm.mjs (the build runs it).
;; y = x·scale[c] + offset[c] over rows [r0, r1) of a tensor viewed as [outer, C, inner]: the
;; normalization once statistics are known. Computed in float64 and rounded once, like the
;; JavaScript loop (loops/affine.ts), so both give the same bits. Pointers are byte offsets;
;; x, y: float32; scale, offset: float64.
;;
;; Four values go as two halves: read by v128.load64_zero (V8 folds it into cvtps2pd's memory
;; operand) and written by v128.store64_lane, so no shuffle splits or joins a vector: fewer
;; instructions per value for the same operations on the same values (the same bits). Written
;; out at each use: Node 20's V8 does not inline a helper function (a call per vector).
(module
  (import "env" "memory" (memory 1 65535 shared))
  (func (export "affine")
    (@params)
    (local $r i32) (local $c i32) (local $p i32) (local $q i32) (local $end i32)
    (local $ps i32) (local $po i32) (local $a v128) (local $b v128)
    (local $rb i32) (local $rb2 i32) (local $rb3 i32) (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    ;; Both layouts walk x and y contiguously from row r0.
    (local.set $p (i32.add (local.get $x)
      (i32.shl (i32.mul (i32.mul (local.get $r0) (local.get $channels)) (local.get $inner)) (i32.const 2))))
    (local.set $q (i32.add (local.get $y) (i32.sub (local.get $p) (local.get $x))))
    (local.set $r (local.get $r0))
    (if (i32.eq (local.get $inner) (i32.const 1))
      (then
        ;; Four channels or more: four rows per sweep, so each load of a channel's constants
        ;; serves four rows. Same operations in the same order as one row at a time, so the same bits.
        (if (i32.ge_u (local.get $channels) (i32.const 4))
          (then
            (@rowStrides)
            (block $blocksDone (loop $blocks
              (br_if $blocksDone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $r1)))
              (local.set $ps (local.get $scale))
              (local.set $po (local.get $offset))
              (local.set $c (i32.const 4))
              (block $blockVecDone (loop $blockVec
                (br_if $blockVecDone (i32.gt_u (local.get $c) (local.get $channels)))
                (local.set $a0 (v128.load (local.get $ps)))
                (local.set $a1 (v128.load offset=16 (local.get $ps)))
                (local.set $b0 (v128.load (local.get $po)))
                (local.set $b1 (v128.load offset=16 (local.get $po)))
                (@rows4
                  (v128.store64_lane 0 (@row $q)
                    (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (@row $p))) (local.get $a0)) (local.get $b0))))
                  (v128.store64_lane offset=8 0 (@row $q)
                    (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (@row $p))) (local.get $a1)) (local.get $b1)))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (local.set $q (i32.add (local.get $q) (i32.const 16)))
                (local.set $ps (i32.add (local.get $ps) (i32.const 32)))
                (local.set $po (i32.add (local.get $po) (i32.const 32)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $blockVec)))
              (local.set $c (i32.sub (local.get $c) (i32.const 4)))
              (block $blockTailDone (loop $blockTail
                (br_if $blockTailDone (i32.ge_u (local.get $c) (local.get $channels)))
                (@rows4
                  (f32.store (@row $q)
                    (f32.demote_f64 (f64.add (f64.mul (f64.promote_f32 (f32.load (@row $p))) (f64.load (local.get $ps))) (f64.load (local.get $po))))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (local.set $q (i32.add (local.get $q) (i32.const 4)))
                (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
                (local.set $po (i32.add (local.get $po) (i32.const 8)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $blockTail)))
              ;; At the end of the block's first row: the next block starts three rows on.
              (local.set $p (i32.add (local.get $p) (local.get $rb3)))
              (local.set $q (i32.add (local.get $q) (local.get $rb3)))
              (local.set $r (i32.add (local.get $r) (i32.const 4)))
              (br $blocks)))))
        ;; Channels last, the rows left: each row holds every channel once; four channels per vector.
        (block $rowsDone (loop $rows
          (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $r1)))
          (local.set $ps (local.get $scale))
          (local.set $po (local.get $offset))
          (local.set $c (i32.const 4))
          (block $vecDone (loop $vec
            (br_if $vecDone (i32.gt_u (local.get $c) (local.get $channels)))
            (v128.store64_lane 0 (local.get $q)
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (v128.load (local.get $ps))) (v128.load (local.get $po)))))
            (v128.store64_lane offset=8 0 (local.get $q)
              (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (v128.load offset=16 (local.get $ps))) (v128.load offset=16 (local.get $po)))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $ps (i32.add (local.get $ps) (i32.const 32)))
            (local.set $po (i32.add (local.get $po) (i32.const 32)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $vec)))
          (local.set $c (i32.sub (local.get $c) (i32.const 4)))
          (block $tailDone (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $channels)))
            (f32.store (local.get $q)
              (f32.demote_f64 (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $p))) (f64.load (local.get $ps))) (f64.load (local.get $po)))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (local.set $ps (i32.add (local.get $ps) (i32.const 8)))
            (local.set $po (i32.add (local.get $po) (i32.const 8)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
          (local.set $r (i32.add (local.get $r) (i32.const 1)))
          (br $rows)))
        (return)))
    ;; Channels first: one contiguous run of `inner` values per (row, channel).
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $r1)))
      (local.set $c (i32.const 0))
      (block $channelsDone (loop $channelsLoop
        (br_if $channelsDone (i32.ge_u (local.get $c) (local.get $channels)))
        (local.set $a (f64x2.splat (f64.load (i32.add (local.get $scale) (i32.shl (local.get $c) (i32.const 3))))))
        (local.set $b (f64x2.splat (f64.load (i32.add (local.get $offset) (i32.shl (local.get $c) (i32.const 3))))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $inner) (i32.const 2))))
        (block $vecDone (loop $vec
          (br_if $vecDone (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
          (v128.store64_lane 0 (local.get $q)
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $p))) (local.get $a)) (local.get $b))))
          (v128.store64_lane offset=8 0 (local.get $q)
            (f32x4.demote_f64x2_zero (f64x2.add (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $p))) (local.get $a)) (local.get $b))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br $vec)))
        (block $tailDone (loop $tail
          (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
          (f32.store (local.get $q)
            (f32.demote_f64 (f64.add (f64.mul (f64.promote_f32 (f32.load (local.get $p))) (f64x2.extract_lane 0 (local.get $a))) (f64x2.extract_lane 0 (local.get $b)))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (br $tail)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channelsLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))
)
