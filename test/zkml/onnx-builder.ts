/** Builds small ONNX models in tests with the onnx-proto schema (the same package the importer uses). */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

const { onnx } = onnxProto;

export interface TestNode {
  op: string;
  inputs: string[];
  output: string;
  name?: string;
  attributes?: Record<string, number | number[] | { float: number } | { string: string }>;
  /** Extra outputs (e.g. MaxPool's Indices) after `output`. */
  outputs?: string[];
}

export interface TestModel {
  opset?: number;
  input: { name: string; shape: (number | string)[] };
  output: string;
  nodes: TestNode[];
  /** Float initializers; `int64: true` stores them as int64_data (shape tensors). `raw` uses raw_data. */
  initializers?: { name: string; dims: number[]; values: number[]; int64?: boolean; raw?: boolean; double?: boolean }[];
}

function attribute(name: string, value: number | number[] | { float: number } | { string: string }): OnnxTypes.IAttributeProto {
  if (Array.isArray(value)) return { name, ints: value, type: onnx.AttributeProto.AttributeType.INTS };
  if (typeof value === "object" && "string" in value) return { name, s: new TextEncoder().encode(value.string), type: onnx.AttributeProto.AttributeType.STRING };
  if (typeof value === "object") return { name, f: value.float, type: onnx.AttributeProto.AttributeType.FLOAT };
  return { name, i: value, type: onnx.AttributeProto.AttributeType.INT };
}

export function buildOnnx(model: TestModel): Uint8Array {
  const initializer = (model.initializers ?? []).map((t): OnnxTypes.ITensorProto => {
    if (t.int64) return { name: t.name, dims: t.dims, dataType: 7, int64Data: t.values };
    if (t.double) return { name: t.name, dims: t.dims, dataType: 11, doubleData: t.values };
    if (t.raw) {
      const bytes = new Uint8Array(new Float32Array(t.values).buffer);
      return { name: t.name, dims: t.dims, dataType: 1, rawData: bytes };
    }
    return { name: t.name, dims: t.dims, dataType: 1, floatData: t.values };
  });
  const proto: OnnxTypes.IModelProto = {
    irVersion: 7,
    producerName: "opg-verifier tests",
    opsetImport: [{ domain: "", version: model.opset ?? 13 }],
    graph: {
      name: "test",
      node: model.nodes.map((n) => ({
        opType: n.op,
        input: n.inputs,
        output: [n.output, ...(n.outputs ?? [])],
        name: n.name ?? "",
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer,
      input: [
        {
          name: model.input.name,
          type: {
            tensorType: {
              elemType: 1,
              shape: { dim: model.input.shape.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
            },
          },
        },
      ],
      output: [{ name: model.output, type: { tensorType: { elemType: 1 } } }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}
