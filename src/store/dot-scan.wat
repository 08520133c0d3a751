;; Exact inner products of one query against many stored vectors, in WebAssembly SIMD.
;;
;; scores[r] = <query, rows[r]> for r in [0, count), every product summed in one fixed order:
;; four f32x4 accumulators over consecutive 16-float blocks, combined as (a0 + a1) + (a2 + a3), then
;; the lanes as (l0 + l1) + (l2 + l3). The order depends on nothing but the stride, so a score is the
;; same bits whichever rows share the scan, in every process, on every machine with wasm SIMD.
;; The host zero-pads vectors to `stride` floats, a multiple of 16 (a zero adds nothing).
(module
  (memory (export "memory") 1)
  (func (export "dotScan")
    (param $query i32) (param $rows i32) (param $count i32) (param $stride i32) (param $out i32)
    (local $row i32) (local $end i32) (local $i i32) (local $bytes i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s v128)
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $row (local.get $rows))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $rows_loop
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $a2 (v128.const i32x4 0 0 0 0))
        (local.set $a3 (v128.const i32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (block $row_done
          (loop $dims
            (br_if $row_done (i32.ge_u (local.get $i) (local.get $bytes)))
            (local.set $a0 (f32x4.add (local.get $a0)
              (f32x4.mul (v128.load (i32.add (local.get $query) (local.get $i)))
                         (v128.load (i32.add (local.get $row) (local.get $i))))))
            (local.set $a1 (f32x4.add (local.get $a1)
              (f32x4.mul (v128.load offset=16 (i32.add (local.get $query) (local.get $i)))
                         (v128.load offset=16 (i32.add (local.get $row) (local.get $i))))))
            (local.set $a2 (f32x4.add (local.get $a2)
              (f32x4.mul (v128.load offset=32 (i32.add (local.get $query) (local.get $i)))
                         (v128.load offset=32 (i32.add (local.get $row) (local.get $i))))))
            (local.set $a3 (f32x4.add (local.get $a3)
              (f32x4.mul (v128.load offset=48 (i32.add (local.get $query) (local.get $i)))
                         (v128.load offset=48 (i32.add (local.get $row) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 64)))
            (br $dims)))
        (local.set $s (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store (local.get $out)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $s)) (f32x4.extract_lane 1 (local.get $s)))
            (f32.add (f32x4.extract_lane 2 (local.get $s)) (f32x4.extract_lane 3 (local.get $s)))))
        (local.set $row (i32.add (local.get $row) (local.get $bytes)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $rows_loop)))))
