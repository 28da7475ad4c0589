/**
 * Dot products of one query against every row of a contiguous Float32 matrix.
 *
 * A plain JS loop runs at a few ns per multiply-add, ~50 ms for 10,000 × 1,024; a tiny hand-assembled
 * WebAssembly SIMD kernel (f32x4, four accumulators) does the same in a few ms, bounded by memory
 * bandwidth. The matrix then lives in the kernel's WebAssembly.Memory; callers see it as a Float32Array.
 * Where WebAssembly SIMD is unavailable, or the dimension is not a multiple of 16, the JS loop is used.
 */

export interface DotKernel {
  /** Rows × dims matrix (write vectors here). */
  readonly matrix: Float32Array;
  /** Put the query here before calling `run`. */
  readonly query: Float32Array;
  /** Filled by `run`: one score per row. */
  readonly scores: Float32Array;
  readonly simd: boolean;
  run(): void;
  /** Bytes held for the matrix, query and scores. */
  readonly bytes: number;
}

/** The slice of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

const ACCUMULATORS = 4;
const STEP = ACCUMULATORS * 16; // bytes of one inner iteration

/** `dots(matrixPtr, queryPtr, rows, dims, outPtr)`; dims must be a multiple of 16. */
function kernelBytes(): Uint8Array {
  const zero = new Array<number>(16).fill(0);
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const load = (offset: number) => [0xfd, 0x00, 0x04, offset];
  const f32x4Add = [0xfd, 0xe4, 0x01];
  const f32x4Mul = [0xfd, 0xe6, 0x01];
  const acc = (a: number) => 7 + a; // locals: 5 j, 6 qEnd, 7.. accumulators
  const init: number[] = [];
  const inner: number[] = [];
  for (let a = 0; a < ACCUMULATORS; a++) {
    init.push(0xfd, 0x0c, ...zero, ...set(acc(a)));
    inner.push(...get(acc(a)), ...get(0), ...load(a * 16), ...get(1), ...get(5), 0x6a, ...load(a * 16));
    inner.push(...f32x4Mul, ...f32x4Add, ...set(acc(a)));
  }
  const sum: number[] = [...get(acc(0))];
  for (let a = 1; a < ACCUMULATORS; a++) sum.push(...get(acc(a)), ...f32x4Add);
  const lane = (l: number) => [0xfd, 0x1f, l];
  const body = [
    [0x02, 0x40, 0x03, 0x40], // block, loop over rows
    [...get(2), 0x45, 0x0d, 0x01], // rows == 0 → done
    init,
    [0x41, 0x00, ...set(5)], // j = 0
    [...get(3), 0x41, 0x02, 0x74, ...set(6)], // qEnd = dims * 4
    [0x03, 0x40], // loop over the row
    inner,
    [...get(0), 0x41, 0xc0, 0x00, 0x6a, ...set(0)], // matrixPtr += 64
    [...get(5), 0x41, 0xc0, 0x00, 0x6a, 0x22, 5], // j += 64
    [...get(6), 0x49, 0x0d, 0x00, 0x0b], // j < qEnd → again
    get(4),
    [...sum, 0x22, acc(0)],
    lane(0),
    [...get(acc(0)), ...lane(1), 0x92, ...get(acc(0)), ...lane(2), 0x92, ...get(acc(0)), ...lane(3), 0x92],
    [0x38, 0x02, 0x00], // f32.store at outPtr
    [...get(4), 0x41, 0x04, 0x6a, ...set(4)], // outPtr += 4
    [...get(2), 0x41, 0x01, 0x6b, ...set(2)], // rows -= 1
    [0x0c, 0x00, 0x0b, 0x0b, 0x0b],
  ].flat();
  const func = [0x02, 0x02, 0x7f, ACCUMULATORS, 0x7b, ...body];
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
  const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 5, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...section(2, [1, ...name('e'), ...name('m'), 0x02, 0x00, 0x01]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('dots'), 0x00, 0]),
    ...section(10, [1, ...leb(func.length), ...func]),
  ]);
}

let wasmModule: object | null | undefined;
function simdModule(): object | null {
  if (wasmModule !== undefined) return wasmModule;
  try {
    // Compiling fails where WebAssembly SIMD is not supported: the JS loop takes over.
    wasmModule = wasm ? new wasm.Module(kernelBytes()) : null;
  } catch {
    wasmModule = null;
  }
  return wasmModule;
}

type Dots = (matrixPtr: number, queryPtr: number, rows: number, dims: number, outPtr: number) => void;

/** Allocates a kernel for `rows` vectors of `dims`; `forceJs` skips WebAssembly (tests, comparison). */
export function createKernel(rows: number, dims: number, options: { forceJs?: boolean } = {}): DotKernel {
  const mod = options.forceJs || dims % (STEP / 4) !== 0 ? null : simdModule();
  const queryBytes = dims * 4;
  const scoreBytes = Math.ceil((rows * 4) / 16) * 16;
  const matrixBytes = rows * dims * 4;
  const bytes = queryBytes + scoreBytes + matrixBytes;
  if (!mod || !wasm) return jsKernel(rows, dims, bytes);
  let memory: WasmMemory;
  try {
    memory = new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / 65_536)) });
  } catch {
    // WebAssembly memory ends at 4 GB (about a million 1,024-dimension phrasings): beyond, plain JS.
    return jsKernel(rows, dims, bytes);
  }
  const instance = new wasm.Instance(mod, { e: { m: memory } });
  const dots = instance.exports.dots as Dots;
  const matrixPtr = queryBytes + scoreBytes;
  return {
    matrix: new Float32Array(memory.buffer, matrixPtr, rows * dims),
    query: new Float32Array(memory.buffer, 0, dims),
    scores: new Float32Array(memory.buffer, queryBytes, rows),
    simd: true,
    bytes,
    run: () => dots(matrixPtr, 0, rows, dims, queryBytes),
  };
}

function jsKernel(rows: number, dims: number, bytes: number): DotKernel {
  const matrix = new Float32Array(rows * dims);
  const query = new Float32Array(dims);
  const scores = new Float32Array(rows);
  return {
    matrix,
    query,
    scores,
    simd: false,
    bytes,
    run: () => {
      for (let r = 0, base = 0; r < rows; r++, base += dims) {
        let s = 0;
        for (let j = 0; j < dims; j++) s += (matrix[base + j] ?? 0) * (query[j] ?? 0);
        scores[r] = s;
      }
    },
  };
}
