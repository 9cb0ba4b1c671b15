/**
 * ONNX import of vision and shape operators, lowered to the float IR (see onnx.ts):
 *
 * - Conv (strides, pads, auto_pad, dilations, group; constant weights and bias), AveragePool,
 *   GlobalAveragePool → `sparse`: a linear map with constant coefficients stored row by row (CSR), so
 *   each output costs only its rescale, like a dense neuron. Pooling averages are the constant 1/count.
 * - MaxPool, GlobalMaxPool → `maxPool`: the maximum of each window (proved with range-checked comparisons).
 * - BatchNormalization → a per-channel affine `sparse` map, folded into the Conv / Gemm before it when
 *   nothing else reads that layer's output (see foldIntoPrevious).
 * - Transpose, Concat, Slice, Squeeze, Unsqueeze, Gather (constant indices), Pad (constant mode), Shape,
 *   Dropout: pure index maps. On constants they are evaluated at import; on the input's data they
 *   become `gather` ops (wiring only, no constraint).
 *
 * Tensors are row-major; the batch dimension is part of the shape (it is 1 for the graph input).
 */
import type { onnx as OnnxTypes } from "onnx-proto";
import { UnsupportedOpError } from "./errors.ts";
import { checkConstantValues, checkedSize, checkWork, MAX_ACTIVATION_ELEMENTS, MAX_CONSTANT_ELEMENTS, MAX_LINEAR_WEIGHTS } from "./limits.ts";
import { shapeSize } from "./tensor.ts";

type NodeProto = OnnxTypes.INodeProto;

/** y_j = bias_j + Σ_{p ∈ [rowStart_j, rowStart_j+1)} weights_p · x[cols_p]: a linear map with few nonzeros. */
export interface SparseLinearOp {
  readonly kind: "sparse";
  readonly node: string;
  readonly opType: string;
  readonly input: string;
  readonly output: string;
  readonly inSize: number;
  readonly outSize: number;
  /** outSize + 1 offsets into cols / weights. */
  readonly rowStart: readonly number[];
  readonly cols: readonly number[];
  readonly weights: Float64Array;
  readonly bias: Float64Array;
}

/** out[j] = max over x[index[p]], p ∈ [windowStart_j, windowStart_j+1) (every window is non-empty). */
export interface MaxPoolOp {
  readonly kind: "maxPool";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly outSize: number;
  readonly windowStart: readonly number[];
  readonly index: readonly number[];
}

/**
 * out[k] = inputs[source[k]][index[k]], or constant[k] where source[k] = -1 (padding, constant
 * operands of a Concat). Transpose, Slice, Gather, Pad and Concat of the input's data.
 */
export interface GatherOp {
  readonly kind: "gather";
  readonly node: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly source: readonly number[];
  readonly index: readonly number[];
  readonly constant: Float64Array;
}

export type VisionOp = SparseLinearOp | MaxPoolOp | GatherOp;

/** The lowering context onnx.ts hands over (its Value type, structurally). */
export type VisionValue =
  | { readonly kind: "const"; readonly shape: number[]; readonly data: Float64Array }
  | { readonly kind: "var"; readonly shape: number[]; readonly id: string };
type VarValue = VisionValue & { kind: "var" };

/** @internal onnx.ts's lowering context (left out of the published declarations: it exposes onnx-proto types). */
export interface VisionContext {
  readonly node: NodeProto;
  readonly opType: string;
  readonly nodeName: string;
  readonly get: (i: number) => VisionValue;
  readonly optional: (i: number) => VisionValue | undefined;
  readonly freshVar: (shape: number[]) => VarValue;
  readonly emit: (op: VisionOp) => void;
}

function toNumber(value: number | { toString(): string } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value.toString());
}

function attr(node: NodeProto, name: string): OnnxTypes.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a === undefined ? fallback : toNumber(a.i);
}
function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : (a.ints ?? []).map((v) => toNumber(v));
}
function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a === undefined ? fallback : (a.f ?? 0);
}
function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const a = attr(node, name);
  if (a === undefined || a.s === null || a.s === undefined) return fallback;
  return typeof a.s === "string" ? a.s : new TextDecoder().decode(a.s);
}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = (out[i + 1] ?? 1) * (shape[i + 1] ?? 1);
  return out;
}

/** Calls fn with every coordinate of `shape`, row-major. */
function forEachCoord(shape: readonly number[], fn: (coord: number[], flat: number) => void): void {
  const total = shapeSize(shape);
  const coord = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    fn(coord, flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      coord[d] = (coord[d] ?? 0) + 1;
      if ((coord[d] ?? 0) < (shape[d] ?? 1)) break;
      coord[d] = 0;
    }
  }
}

/** @internal Lowers a vision / shape node, or returns undefined when `opType` is not one of them. */
export function lowerVisionNode(ctx: VisionContext): VisionValue | undefined {
  switch (ctx.opType) {
    case "Conv":
      return conv(ctx);
    case "AveragePool":
    case "MaxPool":
      return pool(ctx, false);
    case "GlobalAveragePool":
    case "GlobalMaxPool":
      return pool(ctx, true);
    case "BatchNormalization":
      return batchNorm(ctx);
    case "Dropout":
      return ctx.get(0);
    case "Shape": {
      const x = ctx.get(0);
      const rank = x.shape.length;
      const clamp = (v: number): number => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
      const dims = x.shape.slice(clamp(intAttr(ctx.node, "start", 0)), clamp(intAttr(ctx.node, "end", rank)));
      return { kind: "const", shape: [dims.length], data: Float64Array.from(dims) };
    }
    case "Squeeze":
    case "Unsqueeze":
      return squeeze(ctx);
    case "Transpose":
      return transpose(ctx);
    case "Slice":
      return slice(ctx);
    case "Gather":
      return gather(ctx);
    case "Pad":
      return pad(ctx);
    case "Concat":
      return concat(ctx);
    default:
      return undefined;
  }
}

function unsupported(ctx: VisionContext, reason: string): never {
  throw new UnsupportedOpError(ctx.opType, ctx.nodeName, reason);
}

/**
 * The size of a node's output shape, refused (limits.ts) before anything of that size is allocated: a few
 * bytes of ONNX can declare a Conv, Pad or Concat whose output has billions of values.
 */
function outputSize(ctx: VisionContext, shape: readonly number[], constant: boolean): number {
  return checkedSize(shape, `node "${ctx.nodeName}" (${ctx.opType}) output`, constant ? MAX_CONSTANT_ELEMENTS : MAX_ACTIVATION_ELEMENTS);
}

/** Refuses a node whose kernel taps (sparse matrix entries, window reads) exceed the dense-matrix cap. */
function checkTaps(ctx: VisionContext, taps: number): void {
  checkWork(taps, `node "${ctx.nodeName}" (${ctx.opType})`, MAX_LINEAR_WEIGHTS);
}

function constOf(ctx: VisionContext, v: VisionValue | undefined, what: string): Float64Array | undefined {
  if (v === undefined) return undefined;
  if (v.kind !== "const") return unsupported(ctx, `${what} must be a constant`);
  return v.data;
}

// ------------------------------------------------------------------ sliding windows (Conv, pools)

interface Windows {
  /** Output spatial dims. */
  readonly out: number[];
  readonly kernel: number[];
  readonly strides: number[];
  readonly dilations: number[];
  /** Padding before each spatial dim (after is implied by `out`). */
  readonly begin: number[];
  readonly end: number[];
}

function windows(ctx: VisionContext, spatial: readonly number[], kernel: readonly number[], ceil: boolean): Windows {
  const d = spatial.length;
  const node = ctx.node;
  const s = intsAttr(node, "strides") ?? new Array<number>(d).fill(1);
  const dil = intsAttr(node, "dilations") ?? new Array<number>(d).fill(1);
  let pads = intsAttr(node, "pads") ?? new Array<number>(2 * d).fill(0);
  if (s.length !== d || dil.length !== d || pads.length !== 2 * d || kernel.length !== d) {
    unsupported(ctx, "strides, dilations, pads and kernel_shape must match the spatial rank");
  }
  if ([...s, ...dil, ...kernel].some((v) => !Number.isSafeInteger(v) || v < 1) || pads.some((v) => !Number.isSafeInteger(v) || v < 0)) {
    unsupported(ctx, "invalid strides, dilations, pads or kernel_shape");
  }
  const autoPad = stringAttr(node, "auto_pad", "NOTSET");
  if (autoPad === "VALID") pads = new Array<number>(2 * d).fill(0);
  else if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    pads = new Array<number>(2 * d).fill(0);
    for (let i = 0; i < d; i++) {
      const out = Math.ceil((spatial[i] ?? 0) / (s[i] ?? 1));
      const total = Math.max(0, (out - 1) * (s[i] ?? 1) + ((kernel[i] ?? 1) - 1) * (dil[i] ?? 1) + 1 - (spatial[i] ?? 0));
      const small = Math.floor(total / 2);
      pads[i] = autoPad === "SAME_UPPER" ? small : total - small;
      pads[i + d] = total - (pads[i] ?? 0);
    }
  } else if (autoPad !== "NOTSET") unsupported(ctx, `auto_pad ${autoPad}`);
  const out: number[] = [];
  for (let i = 0; i < d; i++) {
    const span = (spatial[i] ?? 0) + (pads[i] ?? 0) + (pads[i + d] ?? 0) - (dil[i] ?? 1) * ((kernel[i] ?? 1) - 1) - 1;
    if (span < 0) unsupported(ctx, "the kernel is larger than the padded input");
    let o = (ceil ? Math.ceil(span / (s[i] ?? 1)) : Math.floor(span / (s[i] ?? 1))) + 1;
    // A last window that would start in the end padding is dropped (onnxruntime, PyTorch).
    if (ceil && (o - 1) * (s[i] ?? 1) >= (spatial[i] ?? 0) + (pads[i] ?? 0)) o--;
    out.push(o);
  }
  return { out, kernel: [...kernel], strides: s, dilations: dil, begin: pads.slice(0, d), end: pads.slice(d) };
}

/** Input coordinates of one window: calls fn(inside, inputSpatialOffset, kernelFlat) for every tap. */
function forEachTap(
  w: Windows,
  spatial: readonly number[],
  outCoord: readonly number[],
  fn: (inside: boolean, inOffset: number, kernelFlat: number, inPadded: boolean) => void,
): void {
  const inStrides = strides(spatial);
  forEachCoord(w.kernel, (k, kFlat) => {
    let offset = 0;
    let inside = true;
    let inPadded = true;
    for (let i = 0; i < spatial.length; i++) {
      const c = (outCoord[i] ?? 0) * (w.strides[i] ?? 1) - (w.begin[i] ?? 0) + (k[i] ?? 0) * (w.dilations[i] ?? 1);
      if (c < 0 || c >= (spatial[i] ?? 0)) inside = false;
      if (c < -(w.begin[i] ?? 0) || c >= (spatial[i] ?? 0) + (w.end[i] ?? 0)) inPadded = false;
      offset += c * (inStrides[i] ?? 0);
    }
    fn(inside, offset, kFlat, inPadded);
  });
}

function applySparse(op: Omit<SparseLinearOp, "kind" | "node" | "opType" | "input" | "output">, x: Float64Array): Float64Array {
  const y = new Float64Array(op.outSize);
  for (let j = 0; j < op.outSize; j++) {
    let acc = op.bias[j] ?? 0;
    for (let p = op.rowStart[j] ?? 0; p < (op.rowStart[j + 1] ?? 0); p++) acc += (op.weights[p] ?? 0) * (x[op.cols[p] ?? 0] ?? 0);
    y[j] = acc;
  }
  return y;
}

function emitSparse(ctx: VisionContext, x: VisionValue, outShape: number[], rows: { cols: number[]; weights: number[] }[], bias: Float64Array): VisionValue {
  const rowStart = [0];
  const cols: number[] = [];
  const weights: number[] = [];
  for (const row of rows) {
    cols.push(...row.cols);
    weights.push(...row.weights);
    rowStart.push(cols.length);
  }
  const body = { inSize: shapeSize(x.shape), outSize: rows.length, rowStart, cols, weights: Float64Array.from(weights), bias };
  if (x.kind === "const") return { kind: "const", shape: outShape, data: applySparse(body, x.data) };
  const out = ctx.freshVar(outShape);
  ctx.emit({ kind: "sparse", node: ctx.nodeName, opType: ctx.opType, input: x.id, output: out.id, ...body });
  return out;
}

function conv(ctx: VisionContext): VisionValue {
  const x = ctx.get(0);
  const w = ctx.get(1);
  if (w.kind !== "const") return unsupported(ctx, "the weights must be constants");
  const b = constOf(ctx, ctx.optional(2), "the bias");
  if (x.shape.length < 3) unsupported(ctx, `the input must be [N, C, ...spatial], got [${x.shape.join(",")}]`);
  const [n = 1, c = 1, ...spatial] = x.shape;
  const [m = 1, cPerGroup = 1, ...kernel] = w.shape;
  const group = intAttr(ctx.node, "group", 1);
  const declared = intsAttr(ctx.node, "kernel_shape");
  if (declared !== undefined && declared.join(",") !== kernel.join(",")) unsupported(ctx, "kernel_shape differs from the weights");
  if (group < 1 || c % group !== 0 || m % group !== 0 || c / group !== cPerGroup) {
    unsupported(ctx, `group ${group} does not fit ${c} input and ${m} output channels with weights [${w.shape.join(",")}]`);
  }
  if (b !== undefined && b.length !== m) unsupported(ctx, `the bias has ${b.length} values for ${m} output channels`);
  const win = windows(ctx, spatial, kernel, false);
  const outSize = outputSize(ctx, [n, m, ...win.out], x.kind === "const");
  const kernelSize = shapeSize(kernel);
  checkTaps(ctx, outSize * cPerGroup * kernelSize);
  const spatialSize = shapeSize(spatial);
  const mPerGroup = m / group;
  const rows: { cols: number[]; weights: number[] }[] = [];
  const bias = new Float64Array(outSize);
  let row = 0;
  for (let batch = 0; batch < n; batch++)
    for (let oc = 0; oc < m; oc++) {
      const g = Math.floor(oc / mPerGroup);
      forEachCoord(win.out, (o) => {
        const cols: number[] = [];
        const weights: number[] = [];
        for (let ic = 0; ic < cPerGroup; ic++) {
          const channelBase = (batch * c + g * cPerGroup + ic) * spatialSize;
          forEachTap(win, spatial, o, (inside, offset, kFlat) => {
            const weight = w.data[(oc * cPerGroup + ic) * kernelSize + kFlat] ?? 0;
            if (inside && weight !== 0) {
              cols.push(channelBase + offset);
              weights.push(weight);
            }
          });
        }
        rows.push({ cols, weights });
        bias[row++] = b?.[oc] ?? 0;
      });
    }
  return emitSparse(ctx, x, [n, m, ...win.out], rows, bias);
}

function pool(ctx: VisionContext, global: boolean): VisionValue {
  const x = ctx.get(0);
  if (x.shape.length < 3) unsupported(ctx, `the input must be [N, C, ...spatial], got [${x.shape.join(",")}]`);
  const [n = 1, c = 1, ...spatial] = x.shape;
  const isMax = ctx.opType === "MaxPool" || ctx.opType === "GlobalMaxPool";
  if (!global && ctx.node.output !== undefined && ctx.node.output !== null && (ctx.node.output[1] ?? "") !== "") {
    unsupported(ctx, "the Indices output is not supported");
  }
  const kernel = global ? [...spatial] : intsAttr(ctx.node, "kernel_shape");
  if (kernel === undefined) return unsupported(ctx, "kernel_shape is required");
  const win = global
    ? { out: spatial.map(() => 1), kernel, strides: spatial.map(() => 1), dilations: spatial.map(() => 1), begin: spatial.map(() => 0), end: spatial.map(() => 0) }
    : windows(ctx, spatial, kernel, intAttr(ctx.node, "ceil_mode", 0) === 1);
  if (!isMax && !global && intsAttr(ctx.node, "dilations")?.some((v) => v !== 1)) unsupported(ctx, "dilated AveragePool");
  checkTaps(ctx, outputSize(ctx, [n, c, ...win.out], x.kind === "const") * checkedSize(kernel, `node "${ctx.nodeName}" kernel`, MAX_LINEAR_WEIGHTS));
  const countPads = intAttr(ctx.node, "count_include_pad", 0) === 1;
  const spatialSize = shapeSize(spatial);
  const rows: { cols: number[]; weights: number[] }[] = [];
  for (let batch = 0; batch < n; batch++)
    for (let ch = 0; ch < c; ch++) {
      const base = (batch * c + ch) * spatialSize;
      forEachCoord(win.out, (o) => {
        const cols: number[] = [];
        let padded = 0;
        forEachTap(win, spatial, o, (inside, offset, _k, inPadded) => {
          if (inside) cols.push(base + offset);
          if (inPadded) padded++;
        });
        if (cols.length === 0) unsupported(ctx, "a window lies entirely in the padding");
        const count = countPads ? padded : cols.length;
        rows.push({ cols, weights: cols.map(() => 1 / count) });
      });
    }
  const outShape = [n, c, ...win.out];
  if (!isMax) return emitSparse(ctx, x, outShape, rows, new Float64Array(rows.length));
  if (x.kind === "const") {
    return { kind: "const", shape: outShape, data: Float64Array.from(rows, (r) => Math.max(...r.cols.map((i) => x.data[i] ?? 0))) };
  }
  const windowStart = [0];
  const index: number[] = [];
  for (const r of rows) {
    index.push(...r.cols);
    windowStart.push(index.length);
  }
  const out = ctx.freshVar(outShape);
  ctx.emit({ kind: "maxPool", node: ctx.nodeName, input: x.id, output: out.id, outSize: rows.length, windowStart, index });
  return out;
}

function batchNorm(ctx: VisionContext): VisionValue {
  const x = ctx.get(0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => constOf(ctx, ctx.get(i), "scale, bias, mean and variance"));
  if ((ctx.node.output ?? []).filter((o) => o !== "").length > 1) unsupported(ctx, "training mode (running statistics outputs)");
  const epsilon = floatAttr(ctx.node, "epsilon", 1e-5);
  if (x.shape.length < 2) unsupported(ctx, "the input must be [N, C, ...]");
  const [n = 1, c = 1, ...rest] = x.shape;
  if ([scale, bias, mean, variance].some((v) => v?.length !== c)) unsupported(ctx, `the statistics must have ${c} values`);
  const inner = shapeSize(rest);
  const rows: { cols: number[]; weights: number[] }[] = [];
  const shift = new Float64Array(shapeSize(x.shape));
  for (let batch = 0; batch < n; batch++)
    for (let ch = 0; ch < c; ch++) {
      const a = (scale?.[ch] ?? 1) / Math.sqrt((variance?.[ch] ?? 1) + epsilon);
      const b = (bias?.[ch] ?? 0) - (mean?.[ch] ?? 0) * a;
      checkConstantValues([a, b], `node "${ctx.nodeName}" (BatchNormalization) folded channel ${ch}`);
      for (let i = 0; i < inner; i++) {
        const k = (batch * c + ch) * inner + i;
        rows.push({ cols: [k], weights: [a] });
        shift[k] = b;
      }
    }
  return emitSparse(ctx, x, [...x.shape], rows, shift);
}

// ------------------------------------------------------------------ shape operators

/** Applies an index map (-1 = the constant `fill`) to a value: evaluated for constants, a gather op otherwise. */
function mapIndices(ctx: VisionContext, x: VisionValue, outShape: number[], index: readonly number[], fill = 0): VisionValue {
  if (x.kind === "const") return { kind: "const", shape: outShape, data: Float64Array.from(index, (i) => (i < 0 ? fill : (x.data[i] ?? 0))) };
  if (index.length === shapeSize(x.shape) && index.every((i, k) => i === k)) return { ...x, shape: outShape };
  const out = ctx.freshVar(outShape);
  ctx.emit({
    kind: "gather",
    node: ctx.nodeName,
    inputs: [x.id],
    output: out.id,
    source: index.map((i) => (i < 0 ? -1 : 0)),
    index: index.map((i) => (i < 0 ? 0 : i)),
    constant: Float64Array.from(index, (i) => (i < 0 ? fill : 0)),
  });
  return out;
}

function normalizeAxis(ctx: VisionContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) unsupported(ctx, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

function squeeze(ctx: VisionContext): VisionValue {
  const x = ctx.get(0);
  const fromInput = constOf(ctx, ctx.optional(1), "axes");
  const axes = intsAttr(ctx.node, "axes") ?? (fromInput === undefined ? undefined : Array.from(fromInput));
  if (ctx.opType === "Squeeze") {
    const rank = x.shape.length;
    const drop = new Set((axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normalizeAxis(ctx, a, rank)));
    for (const a of drop) if (x.shape[a] !== 1) unsupported(ctx, `cannot squeeze axis ${a} of size ${x.shape[a]}`);
    return { ...x, shape: x.shape.filter((_, i) => !drop.has(i)) };
  }
  if (axes === undefined) return unsupported(ctx, "axes are required");
  const rank = x.shape.length + axes.length;
  const insert = new Set(axes.map((a) => normalizeAxis(ctx, a, rank)));
  const shape: number[] = [];
  let next = 0;
  for (let i = 0; i < rank; i++) shape.push(insert.has(i) ? 1 : (x.shape[next++] ?? 1));
  return { ...x, shape };
}

function transpose(ctx: VisionContext): VisionValue {
  const x = ctx.get(0);
  const rank = x.shape.length;
  const perm = intsAttr(ctx.node, "perm") ?? x.shape.map((_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) unsupported(ctx, `invalid perm [${perm.join(",")}]`);
  const outShape = perm.map((p) => x.shape[p] ?? 1);
  outputSize(ctx, outShape, x.kind === "const");
  const inStrides = strides(x.shape);
  const index: number[] = [];
  forEachCoord(outShape, (o) => index.push(o.reduce((acc, v, i) => acc + v * (inStrides[perm[i] ?? 0] ?? 0), 0)));
  return mapIndices(ctx, x, outShape, index);
}

function slice(ctx: VisionContext): VisionValue {
  const x = ctx.get(0);
  const rank = x.shape.length;
  const fromAttr = attr(ctx.node, "starts") !== undefined;
  const list = (i: number, name: string): number[] | undefined =>
    fromAttr ? intsAttr(ctx.node, name) : ((v) => (v === undefined ? undefined : Array.from(v)))(constOf(ctx, ctx.optional(i), name));
  const starts = list(1, "starts");
  const ends = list(2, "ends");
  if (starts === undefined || ends === undefined || starts.length !== ends.length) return unsupported(ctx, "starts and ends are required");
  const axes = (list(3, "axes") ?? starts.map((_, i) => i)).map((a) => normalizeAxis(ctx, a, rank));
  const steps = fromAttr ? starts.map(() => 1) : (list(4, "steps") ?? starts.map(() => 1));
  const begin = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  const outShape = [...x.shape];
  axes.forEach((axis, k) => {
    const dim = x.shape[axis] ?? 1;
    const st = steps[k] ?? 1;
    if (st === 0) unsupported(ctx, "a step of 0");
    const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));
    let s = starts[k] ?? 0;
    let e = ends[k] ?? dim;
    s = s < 0 ? s + dim : s;
    e = e < 0 ? e + dim : e;
    if (st > 0) {
      s = clamp(s, 0, dim);
      e = clamp(e, 0, dim);
    } else {
      s = clamp(s, 0, dim - 1);
      e = clamp(e, -1, dim - 1);
    }
    begin[axis] = s;
    step[axis] = st;
    outShape[axis] = Math.max(0, Math.ceil((e - s) / st));
  });
  if (outputSize(ctx, outShape, x.kind === "const") === 0) unsupported(ctx, "an empty slice");
  const inStrides = strides(x.shape);
  const index: number[] = [];
  forEachCoord(outShape, (o) => index.push(o.reduce((acc, v, i) => acc + ((begin[i] ?? 0) + v * (step[i] ?? 1)) * (inStrides[i] ?? 0), 0)));
  return mapIndices(ctx, x, outShape, index);
}

function gather(ctx: VisionContext): VisionValue {
  const x = ctx.get(0);
  const indices = ctx.get(1);
  if (indices.kind !== "const") return unsupported(ctx, "the indices must be constants");
  const rank = x.shape.length;
  const axis = normalizeAxis(ctx, intAttr(ctx.node, "axis", 0), rank);
  const dim = x.shape[axis] ?? 1;
  const idx = Array.from(indices.data, (i) => {
    const v = i < 0 ? i + dim : i;
    if (!Number.isInteger(v) || v < 0 || v >= dim) unsupported(ctx, `index ${i} out of range for a dimension of ${dim}`);
    return v;
  });
  const outer = x.shape.slice(0, axis);
  const inner = x.shape.slice(axis + 1);
  const outShape = [...outer, ...indices.shape, ...inner];
  outputSize(ctx, outShape, x.kind === "const");
  const innerSize = shapeSize(inner);
  const index: number[] = [];
  for (let o = 0; o < shapeSize(outer); o++)
    for (const i of idx) for (let k = 0; k < innerSize; k++) index.push((o * dim + i) * innerSize + k);
  return mapIndices(ctx, x, outShape, index);
}

function pad(ctx: VisionContext): VisionValue {
  const x = ctx.get(0);
  const rank = x.shape.length;
  const mode = stringAttr(ctx.node, "mode", "constant");
  if (mode !== "constant") unsupported(ctx, `mode ${mode} (only constant padding is supported)`);
  const fromAttr = attr(ctx.node, "pads") !== undefined;
  const raw = fromAttr ? intsAttr(ctx.node, "pads") : ((v) => (v === undefined ? undefined : Array.from(v)))(constOf(ctx, ctx.optional(1), "pads"));
  const value = fromAttr ? floatAttr(ctx.node, "value", 0) : (constOf(ctx, ctx.optional(2), "constant_value")?.[0] ?? 0);
  const axesInput = fromAttr ? undefined : constOf(ctx, ctx.optional(3), "axes");
  const axes = axesInput === undefined ? x.shape.map((_, i) => i) : Array.from(axesInput, (a) => normalizeAxis(ctx, a, rank));
  if (raw === undefined || raw.length !== 2 * axes.length) return unsupported(ctx, "pads must hold a begin and an end per axis");
  const begin = x.shape.map(() => 0);
  const end = x.shape.map(() => 0);
  axes.forEach((a, k) => {
    begin[a] = raw[k] ?? 0;
    end[a] = raw[k + axes.length] ?? 0;
  });
  if (raw.some((v) => !Number.isSafeInteger(v))) unsupported(ctx, `invalid pads [${raw.join(",")}]`);
  const outShape = x.shape.map((d, i) => d + (begin[i] ?? 0) + (end[i] ?? 0));
  if (outShape.some((d) => d <= 0)) unsupported(ctx, "padding removes a whole dimension");
  outputSize(ctx, outShape, x.kind === "const");
  const inStrides = strides(x.shape);
  const index: number[] = [];
  forEachCoord(outShape, (o) => {
    let flat = 0;
    for (let i = 0; i < rank; i++) {
      const c = (o[i] ?? 0) - (begin[i] ?? 0);
      if (c < 0 || c >= (x.shape[i] ?? 0)) {
        index.push(-1);
        return;
      }
      flat += c * (inStrides[i] ?? 0);
    }
    index.push(flat);
  });
  return mapIndices(ctx, x, outShape, index, value);
}

function concat(ctx: VisionContext): VisionValue {
  const count = (ctx.node.input ?? []).length;
  if (count === 0) return unsupported(ctx, "no inputs");
  const parts = Array.from({ length: count }, (_, i) => ctx.get(i));
  const rank = parts[0]?.shape.length ?? 0;
  const axis = normalizeAxis(ctx, intAttr(ctx.node, "axis", 0), rank);
  for (const p of parts) {
    if (p.shape.length !== rank || p.shape.some((d, i) => i !== axis && d !== parts[0]?.shape[i])) {
      unsupported(ctx, `shapes [${parts.map((q) => q.shape.join(",")).join("] [")}] do not concatenate on axis ${axis}`);
    }
  }
  const outShape = [...(parts[0]?.shape ?? [])];
  outShape[axis] = parts.reduce((a, p) => a + (p.shape[axis] ?? 0), 0);
  outputSize(ctx, outShape, parts.every((p) => p.kind === "const"));
  const outer = shapeSize(outShape.slice(0, axis));
  const inner = shapeSize(outShape.slice(axis + 1));
  const vars: string[] = [];
  const source: number[] = [];
  const index: number[] = [];
  const constant: number[] = [];
  const varSlot = parts.map((p) => (p.kind === "var" ? (vars.includes(p.id) ? vars.indexOf(p.id) : vars.push(p.id) - 1) : -1));
  for (let o = 0; o < outer; o++)
    parts.forEach((p, k) => {
      const block = (p.shape[axis] ?? 0) * inner;
      for (let i = 0; i < block; i++) {
        const flat = o * block + i;
        if (p.kind === "const") {
          source.push(-1);
          index.push(0);
          constant.push(p.data[flat] ?? 0);
        } else {
          source.push(varSlot[k] ?? 0);
          index.push(flat);
          constant.push(0);
        }
      }
    });
  if (vars.length === 0) return { kind: "const", shape: outShape, data: Float64Array.from(constant) };
  const out = ctx.freshVar(outShape);
  ctx.emit({ kind: "gather", node: ctx.nodeName, inputs: vars, output: out.id, source, index, constant: Float64Array.from(constant) });
  return out;
}

// ------------------------------------------------------------------ IR passes and evaluation

/** The tensor ids an op of either module reads. */
export function visionOpInputs(op: VisionOp): readonly string[] {
  return op.kind === "gather" ? op.inputs : [op.input];
}

/** Float64 evaluation of one vision op. */
export function evaluateVisionOp(op: VisionOp, read: (id: string) => Float64Array): Float64Array {
  switch (op.kind) {
    case "sparse":
      return applySparse(op, read(op.input));
    case "maxPool": {
      const x = read(op.input);
      return Float64Array.from({ length: op.outSize }, (_, j) => {
        let m = -Infinity;
        for (let p = op.windowStart[j] ?? 0; p < (op.windowStart[j + 1] ?? 0); p++) m = Math.max(m, x[op.index[p] ?? 0] ?? 0);
        return m;
      });
    }
    case "gather": {
      const inputs = op.inputs.map(read);
      return Float64Array.from(op.source, (s, k) => (s < 0 ? (op.constant[k] ?? 0) : (inputs[s]?.[op.index[k] ?? 0] ?? 0)));
    }
  }
}

/** A layer a per-element affine map can be folded into: its rows are scaled, its bias mapped. */
interface RowLinear {
  readonly kind: "linear" | "sparse";
  readonly output: string;
  readonly outSize: number;
  readonly bias: Float64Array;
  readonly node: string;
}

/**
 * Folds a BatchNormalization (a diagonal `sparse` op) into the Conv / Gemm / pooling layer right before
 * it, when nothing else reads that layer's output: y = a ⊙ (W·x + b) + c = (diag(a)·W)·x + (a ⊙ b + c).
 */
export function foldIntoPrevious<T extends { readonly kind: string }>(
  ops: readonly T[],
  readers: ReadonlyMap<string, number>,
  outputId: string,
): T[] {
  const out: T[] = [];
  for (const op of ops) {
    const previous = out[out.length - 1] as (T & RowLinear) | undefined;
    const diag = op as unknown as SparseLinearOp;
    if (
      diag.kind === "sparse" &&
      diag.opType === "BatchNormalization" &&
      (previous?.kind === "linear" || previous?.kind === "sparse") &&
      previous.output === diag.input &&
      previous.output !== outputId &&
      readers.get(diag.input) === 1 &&
      previous.outSize === diag.outSize
    ) {
      const a = Float64Array.from({ length: diag.outSize }, (_, j) => diag.weights[j] ?? 0);
      const bias = previous.bias.map((b, j) => (a[j] ?? 0) * b + (diag.bias[j] ?? 0));
      const node = `${previous.node}+${diag.node}`;
      if (previous.kind === "sparse") {
        const p = previous as unknown as SparseLinearOp;
        const weights = p.weights.map((w, q) => w * (a[rowOf(p.rowStart, q)] ?? 0));
        out[out.length - 1] = { ...p, output: diag.output, weights, bias, node } as unknown as T;
      } else {
        const p = previous as unknown as { inSize: number; weights: Float64Array };
        const weights = p.weights.map((w, q) => w * (a[Math.floor(q / p.inSize)] ?? 0));
        out[out.length - 1] = { ...previous, output: diag.output, weights, bias, node } as T;
      }
      continue;
    }
    out.push(op);
  }
  return out;
}

function rowOf(rowStart: readonly number[], position: number): number {
  let lo = 0;
  let hi = rowStart.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((rowStart[mid] ?? 0) <= position) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
