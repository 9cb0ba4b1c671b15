/**
 * ONNX import: decodes a model with the onnx-proto protobuf schema and lowers its graph to a small
 * float IR the quantizer and circuit generator understand.
 *
 * - Opset ≥ 7 of the default (ai.onnx) domain; older models are refused (legacy broadcast semantics).
 * - Ops: Gemm (alpha, beta, transA, transB, broadcast bias), MatMul, Add, Relu, Flatten, Reshape,
 *   Identity, Cast to float (a no-op), Constant, and the vision / shape ops of onnx-vision.ts (Conv,
 *   pools, BatchNormalization, Transpose, Concat, Slice, Squeeze/Unsqueeze, Gather, Pad, Shape).
 *   Anything else is an UnsupportedOpError naming the node.
 * - Constants come from initializers (raw_data, float_data, double_data, int32_data, int64_data) and
 *   Constant nodes, and are folded: only operations on the (single) graph input survive.
 * - Shapes are inferred by following the graph from the input, whose symbolic dimensions (the batch)
 *   are fixed to 1; declared intermediate and output shapes are ignored because exporters get them
 *   wrong (skl2onnx declares [?,1] for an output that is really [5,1]).
 *
 * The IR is flat: every tensor is a row-major vector, Reshape/Flatten/Identity/Cast only rename it,
 * and every product with a constant becomes a `linear` op (a dense matrix over the flattened input).
 */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import { OnnxImportError, UnsupportedOpError, UnsupportedOpsetError } from "./errors.ts";
import {
  checkConstantValues,
  checkedSize,
  checkWork,
  MAX_ACTIVATION_ELEMENTS,
  MAX_CONSTANT_ELEMENTS,
  MAX_FOLD_OPERATIONS,
  MAX_LINEAR_WEIGHTS,
} from "./limits.ts";
import { evaluateVisionOp, foldIntoPrevious, lowerVisionNode, visionOpInputs, type VisionOp } from "./onnx-vision.ts";
import { broadcastIndex, broadcastShapes, shapeSize } from "./tensor.ts";

const { onnx } = onnxProto;
type NodeProto = OnnxTypes.INodeProto;
type TensorProto = OnnxTypes.ITensorProto;
type AttributeProto = OnnxTypes.IAttributeProto;

/** Lowest supported opset of the default domain. */
export const MIN_OPSET = 7;

/** y = W·x + b over flattened tensors; W is row-major [outSize][inSize]. */
export interface LinearOp {
  readonly kind: "linear";
  readonly node: string;
  readonly opType: string;
  readonly input: string;
  readonly output: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly weights: Float64Array;
  readonly bias: Float64Array;
}

export interface ReluOp {
  readonly kind: "relu";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly size: number;
}

/** out[k] = a[indexA[k]] + b[indexB[k]] (broadcast resolved into index maps). */
export interface AddOp {
  readonly kind: "add";
  readonly node: string;
  readonly a: string;
  readonly b: string;
  readonly output: string;
  readonly indexA: readonly number[];
  readonly indexB: readonly number[];
}

/** out[k] = x[index[k]] + constant[k]. */
export interface AddConstOp {
  readonly kind: "addConst";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly index: readonly number[];
  readonly constant: Float64Array;
}

export type FloatOp = LinearOp | ReluOp | AddOp | AddConstOp | VisionOp;
export type { GatherOp, MaxPoolOp, SparseLinearOp, VisionOp } from "./onnx-vision.ts";

export interface TensorInfo {
  /** Name in the ONNX graph. */
  readonly name: string;
  /** Inferred shape (batch = 1). */
  readonly shape: readonly number[];
}

/** A model lowered to the float IR. Tensor ids in `ops` are canonical (aliases resolved). */
export interface FloatGraph {
  readonly opset: number;
  readonly irVersion: number;
  readonly producer: string;
  readonly graphName: string;
  readonly input: TensorInfo & { readonly id: string };
  readonly output: TensorInfo & { readonly id: string };
  readonly ops: readonly FloatOp[];
  /** Sizes of every canonical tensor id. */
  readonly sizes: Readonly<Record<string, number>>;
  /** Number of float parameters in the initializers that the graph uses. */
  readonly parameterCount: number;
}

type Value =
  | { readonly kind: "const"; readonly shape: number[]; readonly data: Float64Array }
  | { readonly kind: "var"; readonly shape: number[]; readonly id: string };

const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

function toNumber(value: number | { toString(): string } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === "number" ? value : Number(value.toString());
}

/** Decodes a TensorProto into float64 values (exact for float32, int32 and shape-sized int64). */
function tensorValues(tensor: TensorProto): { shape: number[]; data: Float64Array } {
  const name = tensor.name ?? "(unnamed)";
  const shape = (tensor.dims ?? []).map((d) => toNumber(d));
  const size = checkedSize(shape, `tensor "${name}"`, MAX_CONSTANT_ELEMENTS); // before allocating (see limits.ts)
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxImportError(`tensor "${name}" stores its data externally, which is not supported`);
  }
  const raw = tensor.rawData !== null && tensor.rawData !== undefined && tensor.rawData.length > 0 ? tensor.rawData : undefined;
  const view = raw === undefined ? undefined : new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const data = new Float64Array(size);
  const expectBytes = (width: number): DataView => {
    if (view === undefined) throw new OnnxImportError(`tensor "${name}" has no data`);
    if (view.byteLength !== size * width) {
      throw new OnnxImportError(`tensor "${name}": raw_data has ${view.byteLength} bytes, expected ${size * width}`);
    }
    return view;
  };
  const fromList = (list: readonly (number | { toString(): string })[] | null | undefined): void => {
    const values = list ?? [];
    if (values.length !== size) {
      throw new OnnxImportError(`tensor "${name}" holds ${values.length} values, expected ${size}`);
    }
    values.forEach((v, i) => (data[i] = toNumber(v)));
  };
  switch (tensor.dataType) {
    case DataType.FLOAT:
      if (raw !== undefined) {
        const v = expectBytes(4);
        for (let i = 0; i < size; i++) data[i] = v.getFloat32(i * 4, true);
      } else fromList(tensor.floatData);
      break;
    case DataType.DOUBLE:
      if (raw !== undefined) {
        const v = expectBytes(8);
        for (let i = 0; i < size; i++) data[i] = v.getFloat64(i * 8, true);
      } else fromList(tensor.doubleData);
      break;
    case DataType.INT32:
      if (raw !== undefined) {
        const v = expectBytes(4);
        for (let i = 0; i < size; i++) data[i] = v.getInt32(i * 4, true);
      } else fromList(tensor.int32Data);
      break;
    case DataType.INT64:
      if (raw !== undefined) {
        const v = expectBytes(8);
        for (let i = 0; i < size; i++) data[i] = Number(v.getBigInt64(i * 8, true));
      } else fromList(tensor.int64Data);
      break;
    default:
      throw new OnnxImportError(`tensor "${name}" has unsupported data type ${tensor.dataType ?? "unknown"}`);
  }
  checkConstantValues(data, `tensor "${name}"`);
  return { shape, data };
}

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a === undefined ? fallback : toNumber(a.i);
}
function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a === undefined ? fallback : (a.f ?? 0);
}

/** Opset of the default domain ("" or "ai.onnx"); throws when absent or older than MIN_OPSET. */
function defaultOpset(model: OnnxTypes.IModelProto): number {
  const entry = (model.opsetImport ?? []).find((o) => o.domain === undefined || o.domain === null || o.domain === "" || o.domain === "ai.onnx");
  if (entry === undefined) throw new OnnxImportError("the model declares no ai.onnx opset");
  const opset = toNumber(entry.version);
  if (opset < MIN_OPSET) throw new UnsupportedOpsetError(opset);
  return opset;
}

/** Decodes and lowers an ONNX model (bytes of a .onnx file). */
export function importOnnx(bytes: Uint8Array): FloatGraph {
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new OnnxImportError("not a valid ONNX model (protobuf decoding failed)", { cause: error });
  }
  const graph = model.graph;
  if (graph === null || graph === undefined) throw new OnnxImportError("the ONNX model has no graph");
  const opset = defaultOpset(model);

  const values = new Map<string, Value>();
  let parameterCount = 0;
  const initializerNames = new Set<string>();
  for (const init of graph.initializer ?? []) {
    const { shape, data } = tensorValues(init);
    const name = init.name ?? "";
    initializerNames.add(name);
    values.set(name, { kind: "const", shape, data });
    if (init.dataType === DataType.FLOAT || init.dataType === DataType.DOUBLE) parameterCount += data.length;
  }

  const inputs = (graph.input ?? []).filter((i) => !initializerNames.has(i.name ?? ""));
  if (inputs.length !== 1) {
    throw new OnnxImportError(`the model must have exactly one non-constant input, it has ${inputs.length}`);
  }
  const inputProto = inputs[0]!;
  const inputName = inputProto.name ?? "";
  const elemType = inputProto.type?.tensorType?.elemType;
  if (elemType !== undefined && elemType !== null && elemType !== DataType.FLOAT && elemType !== DataType.DOUBLE) {
    throw new OnnxImportError(`input "${inputName}" has element type ${elemType}; only float inputs are supported`);
  }
  const dims = inputProto.type?.tensorType?.shape?.dim ?? [];
  // Symbolic or missing dimensions (the batch) are fixed to 1.
  const inputShape = dims.map((d) => {
    const v = d.dimValue === null || d.dimValue === undefined ? 0 : toNumber(d.dimValue);
    return v > 0 ? v : 1;
  });
  const inputId = "t0";
  values.set(inputName, { kind: "var", shape: inputShape, id: inputId });
  const sizes: Record<string, number> = { [inputId]: checkedSize(inputShape, `input "${inputName}"`, MAX_ACTIVATION_ELEMENTS) };

  const ops: FloatOp[] = [];
  let nextId = 1;
  const freshVar = (shape: number[]): Value & { kind: "var" } => {
    const id = `t${nextId++}`;
    sizes[id] = checkedSize(shape, `tensor ${id}`, MAX_ACTIVATION_ELEMENTS);
    return { kind: "var", shape, id };
  };

  (graph.node ?? []).forEach((node, index) => {
    const opType = node.opType ?? "";
    const nodeName = node.name !== null && node.name !== undefined && node.name !== "" ? node.name : `${opType}#${index}`;
    const domain = node.domain ?? "";
    if (domain !== "" && domain !== "ai.onnx") throw new UnsupportedOpError(`${domain}.${opType}`, nodeName);
    const get = (i: number): Value => {
      const name = node.input?.[i];
      if (name === undefined || name === "") {
        throw new OnnxImportError(`node "${nodeName}" (${opType}) is missing input ${i}`);
      }
      const v = values.get(name);
      if (v === undefined) throw new OnnxImportError(`node "${nodeName}" (${opType}) reads unknown tensor "${name}"`);
      return v;
    };
    const optional = (i: number): Value | undefined => {
      const name = node.input?.[i];
      return name === undefined || name === "" ? undefined : get(i);
    };
    const lowered =
      lowerVisionNode({ node, opType, nodeName, get, optional, freshVar, emit: (op) => void ops.push(op) }) ??
      lowerNode(node, opType, nodeName, get, optional, freshVar, ops);
    const outName = node.output?.[0];
    if (outName === undefined || outName === "") throw new OnnxImportError(`node "${nodeName}" has no output`);
    values.set(outName, lowered);
  });

  const outputs = graph.output ?? [];
  if (outputs.length !== 1) throw new OnnxImportError(`the model must have exactly one output, it has ${outputs.length}`);
  const outputName = outputs[0]!.name ?? "";
  const out = values.get(outputName);
  if (out === undefined) throw new OnnxImportError(`the graph output "${outputName}" is never computed`);
  if (out.kind !== "var") throw new OnnxImportError(`the graph output "${outputName}" does not depend on the input`);

  return {
    opset,
    irVersion: toNumber(model.irVersion),
    producer: `${model.producerName ?? ""} ${model.producerVersion ?? ""}`.trim(),
    graphName: graph.name ?? "",
    input: { name: inputName, shape: inputShape, id: inputId },
    output: { name: outputName, shape: out.shape, id: out.id },
    ops: foldIntoPrevious(fuseBiases(ops, out.id), readerCounts(ops), out.id),
    sizes,
    parameterCount,
  };
}

function lowerNode(
  node: NodeProto,
  opType: string,
  nodeName: string,
  get: (i: number) => Value,
  optional: (i: number) => Value | undefined,
  freshVar: (shape: number[]) => Value & { kind: "var" },
  ops: FloatOp[],
): Value {
  const unsupported = (reason?: string): never => {
    throw new UnsupportedOpError(opType, nodeName, reason);
  };
  switch (opType) {
    case "Identity":
      return get(0);
    case "Cast": {
      const to = intAttr(node, "to", 0);
      if (to !== DataType.FLOAT && to !== DataType.DOUBLE) unsupported(`only casts to float are supported (to=${to})`);
      return get(0);
    }
    case "Constant":
      return constantNode(node, nodeName, unsupported);
    case "Flatten": {
      const x = get(0);
      const rank = x.shape.length;
      let axis = intAttr(node, "axis", 1);
      if (axis < 0) axis += rank;
      if (axis < 0 || axis > rank) unsupported(`axis ${axis} out of range for rank ${rank}`);
      const shape = [shapeSize(x.shape.slice(0, axis)), shapeSize(x.shape.slice(axis))];
      return { ...x, shape };
    }
    case "Reshape": {
      const x = get(0);
      const target = get(1);
      if (target.kind !== "const") return unsupported("the target shape must be a constant");
      const allowZero = intAttr(node, "allowzero", 0) === 1;
      const requested = Array.from(target.data);
      const shape = requested.map((d, i) => (d === 0 && !allowZero ? (x.shape[i] ?? unsupported("0 refers to a missing dimension")) : d));
      const known = shape.filter((d) => d !== -1);
      const inferred = shape.filter((d) => d === -1).length;
      if (inferred > 1 || known.some((d) => d < 0 || !Number.isInteger(d))) unsupported(`invalid target shape [${requested.join(",")}]`);
      const size = shapeSize(x.shape);
      const knownSize = shapeSize(known);
      if (inferred === 1) {
        if (knownSize === 0 || size % knownSize !== 0) unsupported(`cannot reshape [${x.shape.join(",")}] to [${requested.join(",")}]`);
        const fill = size / knownSize;
        shape.forEach((d, i) => (shape[i] = d === -1 ? fill : d));
      } else if (knownSize !== size) {
        unsupported(`cannot reshape [${x.shape.join(",")}] to [${requested.join(",")}]`);
      }
      return { ...x, shape };
    }
    case "Relu": {
      const x = get(0);
      if (x.kind === "const") return { kind: "const", shape: x.shape, data: x.data.map((v) => Math.max(0, v)) };
      const out = freshVar(x.shape);
      ops.push({ kind: "relu", node: nodeName, input: x.id, output: out.id, size: shapeSize(x.shape) });
      return out;
    }
    case "Add": {
      const a = get(0);
      const b = get(1);
      const shape = broadcastShapes(a.shape, b.shape) ?? unsupported(`shapes [${a.shape}] and [${b.shape}] do not broadcast`);
      const folded = a.kind === "const" && b.kind === "const";
      checkedSize(shape, `the output of node "${nodeName}" (Add)`, folded ? MAX_CONSTANT_ELEMENTS : MAX_ACTIVATION_ELEMENTS);
      const ia = broadcastIndex(shape, a.shape);
      const ib = broadcastIndex(shape, b.shape);
      if (a.kind === "const" && b.kind === "const") {
        return { kind: "const", shape, data: Float64Array.from(ia, (i, k) => (a.data[i] ?? 0) + (b.data[ib[k] ?? 0] ?? 0)) };
      }
      const out = freshVar(shape);
      if (a.kind === "var" && b.kind === "var") {
        ops.push({ kind: "add", node: nodeName, a: a.id, b: b.id, output: out.id, indexA: ia, indexB: ib });
      } else {
        const [x, c, ix, ic] = a.kind === "var" ? [a, b, ia, ib] : [b, a, ib, ia];
        if (x.kind !== "var" || c.kind !== "const") throw new Error("unreachable");
        const constant = Float64Array.from(ic, (i) => c.data[i] ?? 0);
        ops.push({ kind: "addConst", node: nodeName, input: x.id, output: out.id, index: ix, constant });
      }
      return out;
    }
    case "Gemm":
    case "MatMul": {
      const isGemm = opType === "Gemm";
      const a = get(0);
      const b = get(1);
      const transA = isGemm ? intAttr(node, "transA", 0) === 1 : false;
      const transB = isGemm ? intAttr(node, "transB", 0) === 1 : false;
      const alpha = isGemm ? floatAttr(node, "alpha", 1) : 1;
      const beta = isGemm ? floatAttr(node, "beta", 1) : 1;
      if (isGemm && (a.shape.length !== 2 || b.shape.length !== 2)) unsupported("Gemm needs 2-D operands");
      if (a.shape.length < 1 || a.shape.length > 2 || b.shape.length < 1 || b.shape.length > 2) {
        unsupported("only 1-D and 2-D MatMul operands are supported");
      }
      // Work with 2-D views: [rows, cols] of A and B as stored, then the logical (transposed) view.
      const aRows = a.shape.length === 1 ? 1 : a.shape[0]!;
      const aCols = a.shape.length === 1 ? a.shape[0]! : a.shape[1]!;
      const bRows = b.shape.length === 1 ? b.shape[0]! : b.shape[0]!;
      const bCols = b.shape.length === 1 ? 1 : b.shape[1]!;
      const M = transA ? aCols : aRows;
      const K = transA ? aRows : aCols;
      const K2 = transB ? bCols : bRows;
      const N = transB ? bRows : bCols;
      if (K !== K2) unsupported(`inner dimensions differ: [${a.shape}] × [${b.shape}]`);
      const aIndex = (m: number, k: number): number => (transA ? k * aCols + m : m * aCols + k);
      const bIndex = (k: number, n: number): number => (transB ? n * bCols + k : k * bCols + n);
      let outShape: number[];
      if (isGemm) outShape = [M, N];
      else if (a.shape.length === 1 && b.shape.length === 1) outShape = [];
      else if (a.shape.length === 1) outShape = [N];
      else if (b.shape.length === 1) outShape = [M];
      else outShape = [M, N];
      const outSize = M * N;
      // Size limits before anything is allocated (limits.ts).
      if (a.kind === "const" && b.kind === "const") {
        checkedSize([M, N], `the output of node "${nodeName}" (${opType})`, MAX_CONSTANT_ELEMENTS);
        checkWork(M * N * K, `folding node "${nodeName}" (${opType})`, MAX_FOLD_OPERATIONS);
      } else if (a.kind === "const" || b.kind === "const") {
        checkedSize([M, N], `the output of node "${nodeName}" (${opType})`, MAX_ACTIVATION_ELEMENTS);
        checkWork(outSize * shapeSize((a.kind === "var" ? a : b).shape), `the dense matrix of node "${nodeName}" (${opType})`, MAX_LINEAR_WEIGHTS);
      }

      // C (Gemm only) is broadcast to [M, N] and scaled by beta.
      const bias = new Float64Array(outSize);
      const c = isGemm ? optional(2) : undefined;
      if (c !== undefined) {
        if (c.kind !== "const") unsupported("a variable bias C is not supported");
        else {
          if (broadcastShapes([M, N], c.shape)?.join(",") !== `${M},${N}`) unsupported(`bias [${c.shape}] does not broadcast to [${M},${N}]`);
          broadcastIndex([M, N], c.shape).forEach((i, k) => (bias[k] = beta * (c.data[i] ?? 0)));
        }
      }

      if (a.kind === "const" && b.kind === "const") {
        const data = new Float64Array(outSize);
        for (let m = 0; m < M; m++)
          for (let n = 0; n < N; n++) {
            let acc = 0;
            for (let k = 0; k < K; k++) acc += (a.data[aIndex(m, k)] ?? 0) * (b.data[bIndex(k, n)] ?? 0);
            data[m * N + n] = alpha * acc + (bias[m * N + n] ?? 0);
          }
        return { kind: "const", shape: outShape, data };
      }
      if (a.kind === "var" && b.kind === "var") return unsupported("a product of two variable tensors is not linear");
      const x = (a.kind === "var" ? a : b) as Value & { kind: "var" };
      const inSize = shapeSize(x.shape);
      const weights = new Float64Array(outSize * inSize);
      for (let m = 0; m < M; m++)
        for (let n = 0; n < N; n++)
          for (let k = 0; k < K; k++) {
            const row = m * N + n;
            // Each (output, input) pair occurs once, so plain assignment is enough.
            if (a.kind === "var" && b.kind === "const") weights[row * inSize + aIndex(m, k)] = alpha * (b.data[bIndex(k, n)] ?? 0);
            else if (a.kind === "const") weights[row * inSize + bIndex(k, n)] = alpha * (a.data[aIndex(m, k)] ?? 0);
          }
      const out = freshVar(outShape);
      ops.push({ kind: "linear", node: nodeName, opType, input: x.id, output: out.id, inSize, outSize, weights, bias });
      return out;
    }
    default:
      return unsupported();
  }
}

function constantNode(node: NodeProto, nodeName: string, unsupported: (reason?: string) => never): Value {
  const attr = (node.attribute ?? [])[0];
  if (attr === undefined) return unsupported("Constant without a value");
  switch (attr.name) {
    case "value": {
      if (attr.t === null || attr.t === undefined) return unsupported("Constant value is not a tensor");
      const { shape, data } = tensorValues({ ...attr.t, name: attr.t.name || nodeName });
      return { kind: "const", shape, data };
    }
    case "value_float":
      return { kind: "const", shape: [], data: Float64Array.of(attr.f ?? 0) };
    case "value_floats":
      return { kind: "const", shape: [attr.floats?.length ?? 0], data: Float64Array.from(attr.floats ?? []) };
    case "value_int":
      return { kind: "const", shape: [], data: Float64Array.of(toNumber(attr.i)) };
    case "value_ints":
      return { kind: "const", shape: [attr.ints?.length ?? 0], data: Float64Array.from(attr.ints ?? [], (v) => toNumber(v)) };
    default:
      return unsupported(`Constant attribute ${attr.name ?? ""} is not supported`);
  }
}

/**
 * Folds `addConst` into the bias of the linear op that produces its input when nothing else reads
 * that linear output (MatMul followed by Add, as skl2onnx exports dense layers). The bias is then added
 * before the rescale, at full precision.
 */
function fuseBiases(ops: readonly FloatOp[], outputId: string): FloatOp[] {
  const readers = readerCounts(ops);
  const out: FloatOp[] = [];
  for (const op of ops) {
    const previous = out[out.length - 1];
    if (
      op.kind === "addConst" &&
      (previous?.kind === "linear" || previous?.kind === "sparse") &&
      previous.output === op.input &&
      previous.output !== outputId &&
      readers.get(op.input) === 1 &&
      op.index.length === previous.outSize &&
      op.index.every((i, k) => i === k)
    ) {
      const bias = previous.bias.map((b, k) => b + (op.constant[k] ?? 0));
      out[out.length - 1] = { ...previous, output: op.output, bias, node: `${previous.node}+${op.node}` };
      continue;
    }
    out.push(op);
  }
  return out;
}

/** How many ops read each tensor id. */
function readerCounts(ops: readonly FloatOp[]): Map<string, number> {
  const readers = new Map<string, number>();
  for (const op of ops) {
    const inputs = op.kind === "add" ? [op.a, op.b] : op.kind === "linear" || op.kind === "relu" || op.kind === "addConst" ? [op.input] : visionOpInputs(op);
    for (const id of inputs) readers.set(id, (readers.get(id) ?? 0) + 1);
  }
  return readers;
}

/** Float64 reference evaluation of the IR (the quantization error is measured against it). */
export function evaluateFloat(graph: FloatGraph, input: readonly number[]): Float64Array {
  const size = graph.sizes[graph.input.id] ?? 0;
  if (input.length !== size) throw new OnnxImportError(`input has ${input.length} values, the model takes ${size}`);
  const tensors = new Map<string, Float64Array>([[graph.input.id, Float64Array.from(input)]]);
  const read = (id: string): Float64Array => {
    const t = tensors.get(id);
    if (t === undefined) throw new OnnxImportError(`tensor ${id} used before it is computed`);
    return t;
  };
  for (const op of graph.ops) {
    switch (op.kind) {
      case "linear": {
        const x = read(op.input);
        const y = new Float64Array(op.outSize);
        for (let j = 0; j < op.outSize; j++) {
          let acc = op.bias[j] ?? 0;
          for (let i = 0; i < op.inSize; i++) acc += (op.weights[j * op.inSize + i] ?? 0) * (x[i] ?? 0);
          y[j] = acc;
        }
        tensors.set(op.output, y);
        break;
      }
      case "relu":
        tensors.set(op.output, read(op.input).map((v) => Math.max(0, v)));
        break;
      case "add": {
        const a = read(op.a);
        const b = read(op.b);
        tensors.set(op.output, Float64Array.from(op.indexA, (i, k) => (a[i] ?? 0) + (b[op.indexB[k] ?? 0] ?? 0)));
        break;
      }
      case "addConst": {
        const x = read(op.input);
        tensors.set(op.output, Float64Array.from(op.index, (i, k) => (x[i] ?? 0) + (op.constant[k] ?? 0)));
        break;
      }
      default:
        tensors.set(op.output, evaluateVisionOp(op, read));
    }
  }
  return read(graph.output.id);
}
