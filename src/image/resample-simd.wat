;; WebAssembly SIMD kernels for the two 8-bit passes of Pillow's bicubic resample (src/image/resample.ts
;; is the reference). Built into src/image/resample-simd-wasm.ts by scripts/build-resample-wasm.ts.
;;
;; Exactness: a 22-bit fixed-point weight w does not fit an i16 lane, so the host splits it as
;; w = wh·2^11 + wl with wl = w & 0x7FF (unsigned, < 2^11) and wh = w >> 11 (signed, |wh| < 2^13).
;; Each pass sums pixel·wh and pixel·wl with i32x4.dot_i16x8_s and returns (Σhi << 11) + Σlo + HALF,
;; which equals the reference's HALF + Σ pixel·w modulo 2^32 (all integer, so any order is exact).
;; The clamp "≤ 0 → 0, ≥ 256·2^22 → 255, else >> 22" is an arithmetic shift by 22 followed by the
;; saturating narrows i32→i16 (signed) and i16→u8 (unsigned).
;;
;; Both kernels read up to 16 bytes past the last pixel they use and write up to 8 bytes past the end
;; of their output; the host pads every buffer accordingly. Weights of taps past the real tap count are
;; zero, so what those padded reads see never matters.
(module
  (memory (export "memory") 1)

  ;; Horizontal pass over `rows` rows of an interleaved image with `channels` (1–4) channels.
  ;; Output pixel x of every row reads groups of taps: one group is 8 source bytes at
  ;; row + offsets[x] + g·step, rearranged into i16 lanes by `mask` (a swizzle; 0x80 lanes are zero),
  ;; and dotted with the group's hi and lo weight vectors (32 bytes per group, `kgroups` groups per
  ;; output pixel). `reduce` folds lanes for channel counts below 3: 1 = lanes (0+2, 1+3), 2 = all four.
  (func (export "hpass")
    (param $src i32) (param $srcStride i32) (param $rows i32)
    (param $dst i32) (param $outWidth i32) (param $channels i32)
    (param $offsets i32) (param $groups i32) (param $weights i32) (param $kgroups i32)
    (param $mask i32) (param $step i32) (param $reduce i32)
    (local $y i32) (local $x i32) (local $p i32) (local $n i32) (local $wp i32) (local $out i32)
    (local $row i32) (local $groupBytes i32)
    (local $m v128) (local $v v128) (local $hi v128) (local $lo v128) (local $s v128) (local $half v128)
    (local.set $m (v128.load (local.get $mask)))
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (local.set $groupBytes (i32.shl (local.get $kgroups) (i32.const 5)))
    (local.set $out (local.get $dst))
    (local.set $row (local.get $src))
    (local.set $y (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $x (i32.const 0))
        (block $pixelsDone
          (loop $pixelLoop
            (br_if $pixelsDone (i32.ge_u (local.get $x) (local.get $outWidth)))
            (local.set $p (i32.add (local.get $row)
              (i32.load (i32.add (local.get $offsets) (i32.shl (local.get $x) (i32.const 2))))))
            (local.set $n (i32.load (i32.add (local.get $groups) (i32.shl (local.get $x) (i32.const 2)))))
            (local.set $wp (i32.add (local.get $weights) (i32.mul (local.get $x) (local.get $groupBytes))))
            (local.set $hi (v128.const i32x4 0 0 0 0))
            (local.set $lo (v128.const i32x4 0 0 0 0))
            (loop $tapLoop
              (local.set $v (i8x16.swizzle (v128.load64_zero (local.get $p)) (local.get $m)))
              (local.set $hi (i32x4.add (local.get $hi)
                (i32x4.dot_i16x8_s (local.get $v) (v128.load (local.get $wp)))))
              (local.set $lo (i32x4.add (local.get $lo)
                (i32x4.dot_i16x8_s (local.get $v) (v128.load offset=16 (local.get $wp)))))
              (local.set $p (i32.add (local.get $p) (local.get $step)))
              (local.set $wp (i32.add (local.get $wp) (i32.const 32)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $tapLoop (i32.gt_s (local.get $n) (i32.const 0))))
            (local.set $s (i32x4.add (i32x4.shl (local.get $hi) (i32.const 11)) (local.get $lo)))
            (if (i32.ge_u (local.get $reduce) (i32.const 1))
              (then
                (local.set $s (i32x4.add (local.get $s)
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s))))))
            (if (i32.ge_u (local.get $reduce) (i32.const 2))
              (then
                (local.set $s (i32x4.add (local.get $s)
                  (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $s) (local.get $s))))))
            (local.set $s (i32x4.shr_s (i32x4.add (local.get $s) (local.get $half)) (i32.const 22)))
            (local.set $s (i16x8.narrow_i32x4_s (local.get $s) (local.get $s)))
            (local.set $s (i8x16.narrow_i16x8_u (local.get $s) (local.get $s)))
            (i32.store (local.get $out) (i32x4.extract_lane 0 (local.get $s)))
            (local.set $out (i32.add (local.get $out) (local.get $channels)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $pixelLoop)))
        (local.set $row (i32.add (local.get $row) (local.get $srcStride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rowLoop))))

  ;; Vertical pass: output row r is the weighted sum of `pairs[r]` pairs of consecutive rows of `src`
  ;; starting at byte offset starts[r]; each pair has one i32 of packed hi weights (row 0 in the low
  ;; half, row 1 in the high half) and one of lo weights, `kpairs` pairs per output row. Columns go
  ;; 8 bytes at a time, so each row may write up to 7 bytes past its end (the next row overwrites them).
  (func (export "vpass")
    (param $src i32) (param $rowLen i32) (param $dst i32) (param $outRows i32)
    (param $starts i32) (param $pairs i32) (param $weights i32) (param $kpairs i32)
    (local $r i32) (local $i i32) (local $j i32) (local $base i32) (local $p i32) (local $wp i32)
    (local $wbase i32) (local $out i32) (local $n i32) (local $pairStride i32)
    (local $a v128) (local $b v128) (local $wh v128) (local $wl v128)
    (local $hiA v128) (local $loA v128) (local $hiB v128) (local $loB v128)
    (local $half v128) (local $sA v128) (local $sB v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (local.set $pairStride (i32.shl (local.get $rowLen) (i32.const 1)))
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $outRows)))
        (local.set $base (i32.add (local.get $src)
          (i32.load (i32.add (local.get $starts) (i32.shl (local.get $r) (i32.const 2))))))
        (local.set $n (i32.load (i32.add (local.get $pairs) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $wbase (i32.add (local.get $weights)
          (i32.mul (local.get $r) (i32.shl (local.get $kpairs) (i32.const 3)))))
        (local.set $out (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $rowLen))))
        (local.set $i (i32.const 0))
        (block $colsDone
          (loop $colLoop
            (br_if $colsDone (i32.ge_u (local.get $i) (local.get $rowLen)))
            (local.set $p (i32.add (local.get $base) (local.get $i)))
            (local.set $wp (local.get $wbase))
            (local.set $hiA (v128.const i32x4 0 0 0 0))
            (local.set $loA (v128.const i32x4 0 0 0 0))
            (local.set $hiB (v128.const i32x4 0 0 0 0))
            (local.set $loB (v128.const i32x4 0 0 0 0))
            (local.set $j (local.get $n))
            (loop $tapLoop
              (local.set $a (v128.load8x8_u (local.get $p)))
              (local.set $b (v128.load8x8_u (i32.add (local.get $p) (local.get $rowLen))))
              (local.set $wh (v128.load32_splat (local.get $wp)))
              (local.set $wl (v128.load32_splat offset=4 (local.get $wp)))
              ;; Columns 0–3 and 4–7 as (row 0, row 1) i16 pairs.
              (local.set $sA (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $a) (local.get $b)))
              (local.set $sB (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $a) (local.get $b)))
              (local.set $hiA (i32x4.add (local.get $hiA) (i32x4.dot_i16x8_s (local.get $sA) (local.get $wh))))
              (local.set $loA (i32x4.add (local.get $loA) (i32x4.dot_i16x8_s (local.get $sA) (local.get $wl))))
              (local.set $hiB (i32x4.add (local.get $hiB) (i32x4.dot_i16x8_s (local.get $sB) (local.get $wh))))
              (local.set $loB (i32x4.add (local.get $loB) (i32x4.dot_i16x8_s (local.get $sB) (local.get $wl))))
              (local.set $p (i32.add (local.get $p) (local.get $pairStride)))
              (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
              (local.set $j (i32.sub (local.get $j) (i32.const 1)))
              (br_if $tapLoop (i32.gt_s (local.get $j) (i32.const 0))))
            (local.set $sA (i32x4.shr_s
              (i32x4.add (i32x4.add (i32x4.shl (local.get $hiA) (i32.const 11)) (local.get $loA)) (local.get $half))
              (i32.const 22)))
            (local.set $sB (i32x4.shr_s
              (i32x4.add (i32x4.add (i32x4.shl (local.get $hiB) (i32.const 11)) (local.get $loB)) (local.get $half))
              (i32.const 22)))
            (local.set $sA (i16x8.narrow_i32x4_s (local.get $sA) (local.get $sB)))
            (local.set $sA (i8x16.narrow_i16x8_u (local.get $sA) (local.get $sA)))
            (i64.store (i32.add (local.get $out) (local.get $i)) (i64x2.extract_lane 0 (local.get $sA)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $colLoop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))
)
