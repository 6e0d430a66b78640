;; Source with macros ((@rows4 …), (@high $v), (@params), …: scripts/wat-macros.mjs), expanded and
;; assembled into modules.generated.ts by scripts/compile-wasm.mjs (the build runs it).
;; dx = a[c]·dy + (b[c]·x + d[c]) over rows [r0, r1): the simplified batch-norm gradient with its
;; per-channel constants folded beforehand (loops/backwardApply.ts). Float64 arithmetic in the
;; same order as the JavaScript loop, rounded once, so both give the same bits. Pointers are
;; byte offsets; dy, x, dx: float32; a, b, d: float64.
(module
  (import "env" "memory" (memory 1 65535 shared))
  (func (export "backwardApply")
    (@params)
    (local $r i32) (local $c i32) (local $p i32) (local $g i32) (local $q i32) (local $end i32)
    (local $pa i32) (local $pb i32) (local $pd i32)
    (local $vx v128) (local $vg v128) (local $va v128) (local $vb v128) (local $vd v128)
    (local $rb i32) (local $rb2 i32) (local $rb3 i32) (local $ka0 v128) (local $ka1 v128) (local $kb0 v128) (local $kb1 v128) (local $kd0 v128) (local $kd1 v128)
    (local.set $p (i32.add (local.get $x)
      (i32.shl (i32.mul (i32.mul (local.get $r0) (local.get $channels)) (local.get $inner)) (i32.const 2))))
    (local.set $g (i32.add (local.get $dy) (i32.sub (local.get $p) (local.get $x))))
    (local.set $q (i32.add (local.get $dx) (i32.sub (local.get $p) (local.get $x))))
    (local.set $r (local.get $r0))
    (if (i32.eq (local.get $inner) (i32.const 1))
      (then
        ;; Four channels or more: four rows per sweep, so each load of a channel's constants serves
        ;; four rows (faster for 64 channels too: README, Performance). Same operations in the same
        ;; order as one row at a time, so the same bits.
        (if (i32.ge_u (local.get $channels) (i32.const 4))
          (then
            (@rowStrides)
            (block $blocksDone (loop $blocks
              (br_if $blocksDone (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $r1)))
              (local.set $pa (local.get $a))
              (local.set $pb (local.get $b))
              (local.set $pd (local.get $d))
              (local.set $c (i32.const 4))
              (block $blockVecDone (loop $blockVec
                (br_if $blockVecDone (i32.gt_u (local.get $c) (local.get $channels)))
                (local.set $ka0 (v128.load (local.get $pa)))
                (local.set $ka1 (v128.load offset=16 (local.get $pa)))
                (local.set $kb0 (v128.load (local.get $pb)))
                (local.set $kb1 (v128.load offset=16 (local.get $pb)))
                (local.set $kd0 (v128.load (local.get $pd)))
                (local.set $kd1 (v128.load offset=16 (local.get $pd)))
                (@rows4
                  (local.set $vx (v128.load (@row $p)))
                  (local.set $vg (v128.load (@row $g)))
                  (v128.store (@row $q)
                    (@join
                      (f32x4.demote_f64x2_zero
                        (f64x2.add (f64x2.mul (local.get $ka0) (f64x2.promote_low_f32x4 (local.get $vg)))
                          (f64x2.add (f64x2.mul (local.get $kb0) (f64x2.promote_low_f32x4 (local.get $vx))) (local.get $kd0))))
                      (f32x4.demote_f64x2_zero
                        (f64x2.add (f64x2.mul (local.get $ka1) (f64x2.promote_low_f32x4 (@high $vg)))
                          (f64x2.add (f64x2.mul (local.get $kb1) (f64x2.promote_low_f32x4 (@high $vx))) (local.get $kd1)))))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (local.set $g (i32.add (local.get $g) (i32.const 16)))
                (local.set $q (i32.add (local.get $q) (i32.const 16)))
                (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
                (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
                (local.set $pd (i32.add (local.get $pd) (i32.const 32)))
                (local.set $c (i32.add (local.get $c) (i32.const 4)))
                (br $blockVec)))
              (local.set $c (i32.sub (local.get $c) (i32.const 4)))
              (block $blockTailDone (loop $blockTail
                (br_if $blockTailDone (i32.ge_u (local.get $c) (local.get $channels)))
                (@rows4
                  (f32.store (@row $q)
                    (f32.demote_f64
                      (f64.add (f64.mul (f64.load (local.get $pa)) (f64.promote_f32 (f32.load (@row $g))))
                        (f64.add (f64.mul (f64.load (local.get $pb)) (f64.promote_f32 (f32.load (@row $p)))) (f64.load (local.get $pd)))))))
                (local.set $p (i32.add (local.get $p) (i32.const 4)))
                (local.set $g (i32.add (local.get $g) (i32.const 4)))
                (local.set $q (i32.add (local.get $q) (i32.const 4)))
                (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
                (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
                (local.set $pd (i32.add (local.get $pd) (i32.const 8)))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $blockTail)))
              ;; At the end of the block's first row: the next block starts three rows on.
              (local.set $p (i32.add (local.get $p) (local.get $rb3)))
              (local.set $g (i32.add (local.get $g) (local.get $rb3)))
              (local.set $q (i32.add (local.get $q) (local.get $rb3)))
              (local.set $r (i32.add (local.get $r) (i32.const 4)))
              (br $blocks)))))
        ;; Channels last: each row holds every channel once; four channels per vector.
        (block $rowsDone (loop $rows
          (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $r1)))
          (local.set $pa (local.get $a))
          (local.set $pb (local.get $b))
          (local.set $pd (local.get $d))
          (local.set $c (i32.const 4))
          (block $vecDone (loop $vec
            (br_if $vecDone (i32.gt_u (local.get $c) (local.get $channels)))
            (local.set $vx (v128.load (local.get $p)))
            (local.set $vg (v128.load (local.get $g)))
            (v128.store (local.get $q)
              (@join
                (f32x4.demote_f64x2_zero
                  (f64x2.add
                    (f64x2.mul (v128.load (local.get $pa)) (f64x2.promote_low_f32x4 (local.get $vg)))
                    (f64x2.add
                      (f64x2.mul (v128.load (local.get $pb)) (f64x2.promote_low_f32x4 (local.get $vx)))
                      (v128.load (local.get $pd)))))
                (f32x4.demote_f64x2_zero
                  (f64x2.add
                    (f64x2.mul (v128.load offset=16 (local.get $pa))
                      (f64x2.promote_low_f32x4
                        (@high $vg)))
                    (f64x2.add
                      (f64x2.mul (v128.load offset=16 (local.get $pb))
                        (f64x2.promote_low_f32x4
                          (@high $vx)))
                      (v128.load offset=16 (local.get $pd)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $g (i32.add (local.get $g) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
            (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
            (local.set $pd (i32.add (local.get $pd) (i32.const 32)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $vec)))
          (local.set $c (i32.sub (local.get $c) (i32.const 4)))
          (block $tailDone (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $channels)))
            (f32.store (local.get $q)
              (f32.demote_f64
                (f64.add
                  (f64.mul (f64.load (local.get $pa)) (f64.promote_f32 (f32.load (local.get $g))))
                  (f64.add
                    (f64.mul (f64.load (local.get $pb)) (f64.promote_f32 (f32.load (local.get $p))))
                    (f64.load (local.get $pd))))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $g (i32.add (local.get $g) (i32.const 4)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (local.set $pa (i32.add (local.get $pa) (i32.const 8)))
            (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
            (local.set $pd (i32.add (local.get $pd) (i32.const 8)))
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
        (local.set $pa (i32.shl (local.get $c) (i32.const 3)))
        (local.set $va (f64x2.splat (f64.load (i32.add (local.get $a) (local.get $pa)))))
        (local.set $vb (f64x2.splat (f64.load (i32.add (local.get $b) (local.get $pa)))))
        (local.set $vd (f64x2.splat (f64.load (i32.add (local.get $d) (local.get $pa)))))
        (local.set $end (i32.add (local.get $p) (i32.shl (local.get $inner) (i32.const 2))))
        (block $vecDone (loop $vec
          (br_if $vecDone (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
          (local.set $vx (v128.load (local.get $p)))
          (local.set $vg (v128.load (local.get $g)))
          (v128.store (local.get $q)
            (@join
              (f32x4.demote_f64x2_zero
                (f64x2.add
                  (f64x2.mul (local.get $va) (f64x2.promote_low_f32x4 (local.get $vg)))
                  (f64x2.add (f64x2.mul (local.get $vb) (f64x2.promote_low_f32x4 (local.get $vx))) (local.get $vd))))
              (f32x4.demote_f64x2_zero
                (f64x2.add
                  (f64x2.mul (local.get $va)
                    (f64x2.promote_low_f32x4
                      (@high $vg)))
                  (f64x2.add
                    (f64x2.mul (local.get $vb)
                      (f64x2.promote_low_f32x4
                        (@high $vx)))
                    (local.get $vd))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br $vec)))
        (block $tailDone (loop $tail
          (br_if $tailDone (i32.ge_u (local.get $p) (local.get $end)))
          (f32.store (local.get $q)
            (f32.demote_f64
              (f64.add
                (f64.mul (f64x2.extract_lane 0 (local.get $va)) (f64.promote_f32 (f32.load (local.get $g))))
                (f64.add
                  (f64.mul (f64x2.extract_lane 0 (local.get $vb)) (f64.promote_f32 (f32.load (local.get $p))))
                  (f64x2.extract_lane 0 (local.get $vd))))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $g (i32.add (local.get $g) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (br $tail)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $channelsLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))
)
