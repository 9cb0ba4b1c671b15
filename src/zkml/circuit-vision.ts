/** circom for the vision layers (circuits/lib/opg_vision.circom): SparseDense, MaxPool, Gather. */
import { CircuitBuildError } from "./errors.ts";
import type { QuantizedLayer } from "./quantize.ts";

function list(values: readonly (bigint | number)[]): string {
  return `[${values.join(", ")}]`;
}

/** Lines of the main template for one sparse / maxPool / gather layer (component `c`). */
export function visionLayerCircom(
  layer: QuantizedLayer,
  index: number,
  c: string,
  ref: (id: string) => string,
  sizeOf: (id: string) => number,
  scaleBits: number,
): string[] {
  switch (layer.kind) {
    case "sparse": {
      // circom arrays need at least one element: an all-zero layer gets one zero weight.
      const cols = layer.cols.length === 0 ? [0] : layer.cols;
      const weights = layer.weights.length === 0 ? [0n] : layer.weights;
      return [
        `    var rows${index}[${layer.rowStart.length}] = ${list(layer.rowStart)};`,
        `    var cols${index}[${cols.length}] = ${list(cols)};`,
        `    var W${index}[${weights.length}] = ${list(weights)};`,
        `    var bias${index}[${layer.outSize}] = ${list(layer.bias)};`,
        `    var bits${index}[${layer.outSize}] = ${list(layer.bits)};`,
        `    component ${c} = SparseDense(${layer.outSize}, ${layer.inSize}, ${weights.length}, ${scaleBits}, rows${index}, cols${index}, W${index}, bias${index}, bits${index});`,
        `    ${c}.in <== ${ref(layer.input)};`,
      ];
    }
    case "maxPool": {
      const comparisons = layer.index.length - layer.outSize;
      if (comparisons === 0) {
        // Every window holds one value: the pool is a plain selection.
        const n = layer.outSize;
        return gatherLines(index, c, n, [{ ref: ref(layer.input), size: sizeOf(layer.input) }], new Array<number>(n).fill(0), layer.windowStart.slice(0, n).map((p) => layer.index[p] ?? 0), new Array<bigint>(n).fill(0n));
      }
      return [
        `    var start${index}[${layer.windowStart.length}] = ${list(layer.windowStart)};`,
        `    var idx${index}[${layer.index.length}] = ${list(layer.index)};`,
        `    var bits${index}[${layer.outSize}] = ${list(layer.bits)};`,
        `    component ${c} = MaxPool(${layer.outSize}, ${sizeOf(layer.input)}, ${layer.index.length}, ${comparisons}, start${index}, idx${index}, bits${index});`,
        `    ${c}.in <== ${ref(layer.input)};`,
      ];
    }
    case "gather":
      return gatherLines(
        index,
        c,
        layer.source.length,
        layer.inputs.map((id) => ({ ref: ref(id), size: sizeOf(id) })),
        layer.source,
        layer.index,
        layer.constant,
      );
    default:
      throw new CircuitBuildError(`no circuit template for layer kind ${layer.kind}`);
  }
}

/** A Gather over the concatenation of `inputs`: source s, element i is in[offset_s + i]. */
function gatherLines(
  index: number,
  c: string,
  n: number,
  inputs: readonly { ref: string; size: number }[],
  source: readonly number[],
  elements: readonly number[],
  constant: readonly bigint[],
): string[] {
  const offsets: number[] = [];
  let total = 0;
  for (const input of inputs) {
    offsets.push(total);
    total += input.size;
  }
  const flat = source.map((s, k) => (s < 0 ? 0 : (offsets[s] ?? 0) + (elements[k] ?? 0)));
  const lines = [
    `    var isConst${index}[${n}] = ${list(source.map((s) => (s < 0 ? 1 : 0)))};`,
    `    var idx${index}[${n}] = ${list(flat)};`,
    `    var c${index}[${n}] = ${list(source.map((s, k) => (s < 0 ? (constant[k] ?? 0n) : 0n)))};`,
    `    component ${c} = Gather(${n}, ${Math.max(total, 1)}, isConst${index}, idx${index}, c${index});`,
  ];
  inputs.forEach((input, k) => {
    lines.push(`    for (var i = 0; i < ${input.size}; i++) {`, `        ${c}.in[${offsets[k] ?? 0} + i] <== ${input.ref}[i];`, "    }");
  });
  return lines;
}
