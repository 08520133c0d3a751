import { readFileSync } from 'node:fs';
import { arch, cpus } from 'node:os';

/**
 * The instruction set ONNX Runtime's MLAS kernels will dispatch to on this CPU. Results are
 * bitwise reproducible only within one dispatch path, so provenance records it.
 */
export function cpuInstructionSet(): string {
  const a = arch();
  if (a !== 'x64') return a;
  let flags = '';
  try {
    flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
  } catch {
    return 'x64';
  }
  const has = (f: string): boolean => new RegExp(`(^|\\s)${f}(\\s|$)`).test(flags);
  if (has('avx512f') && has('avx512bw') && has('avx512vl')) return has('avx512_vnni') ? 'x64-avx512-vnni' : 'x64-avx512';
  if (has('avx2') && has('fma')) return has('avx_vnni') ? 'x64-avx2-vnni' : 'x64-avx2';
  if (has('avx')) return 'x64-avx';
  return 'x64-sse';
}

export function cpuModel(): string {
  return cpus()[0]?.model?.trim() ?? 'unknown';
}
