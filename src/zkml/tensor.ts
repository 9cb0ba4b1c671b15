/** Small helpers for row-major tensors: shapes, broadcasting, nested arrays. */
import { InvalidInputError } from "../errors.ts";

/** A nested array of numbers shaped like a tensor (a bare number for rank 0). */
export type NestedNumbers = number | NestedNumbers[];

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Flattens a nested array row-major, checking it is rectangular; returns values and shape. */
export function flattenNested(value: unknown): { values: number[]; shape: number[] } {
  const values: number[] = [];
  const shape: number[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (Array.isArray(node)) {
      if (shape.length === depth) shape.push(node.length);
      else if (shape[depth] !== node.length) throw new InvalidInputError("input is not a rectangular nested array");
      for (const child of node) walk(child, depth + 1);
      return;
    }
    if (typeof node !== "number") {
      throw new InvalidInputError(`input values must be finite numbers, got ${JSON.stringify(node) ?? typeof node}`);
    }
    if (!Number.isFinite(node)) {
      // JSON.parse reads 1e309 as Infinity: say so rather than print "null".
      const hint = Number.isNaN(node) ? "" : " (beyond the float64 range, e.g. 1e309)";
      throw new InvalidInputError(`input values must be finite numbers, got ${node}${hint}`);
    }
    if (depth !== shape.length) throw new InvalidInputError("input is not a rectangular nested array");
    values.push(node);
  };
  walk(value, 0);
  return { values, shape };
}

/** Builds a nested array of the given shape from row-major values. */
export function nestValues(values: readonly number[], shape: readonly number[]): NestedNumbers {
  if (shapeSize(shape) !== values.length) {
    throw new InvalidInputError(`cannot shape ${values.length} values as [${shape.join(",")}]`);
  }
  const build = (offset: number, dim: number): NestedNumbers => {
    if (dim === shape.length) return values[offset] ?? 0;
    const size = shape[dim] ?? 1;
    const stride = shapeSize(shape.slice(dim + 1));
    const out: NestedNumbers[] = [];
    for (let i = 0; i < size; i++) out.push(build(offset + i * stride, dim + 1));
    return out;
  };
  return build(0, 0);
}

/** Numpy-style multidirectional broadcast of two shapes; undefined when incompatible. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * For an input of shape `inShape` broadcast to `outShape`, the row-major index into the input of every
 * output element.
 */
export function broadcastIndex(outShape: readonly number[], inShape: readonly number[]): number[] {
  const rank = outShape.length;
  const padded = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  const inStrides = padded.map((_, i) => shapeSize(padded.slice(i + 1)));
  const total = shapeSize(outShape);
  const index: number[] = new Array<number>(total);
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    let source = 0;
    for (let d = rank - 1; d >= 0; d--) {
      const dim = outShape[d] ?? 1;
      const coord = rest % dim;
      rest = Math.floor(rest / dim);
      if ((padded[d] ?? 1) !== 1) source += coord * (inStrides[d] ?? 0);
    }
    index[flat] = source;
  }
  return index;
}
