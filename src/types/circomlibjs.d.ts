// circomlibjs ships no type declarations; this covers the part the toolkit uses.
declare module "circomlibjs" {
  export interface PoseidonField {
    toObject(element: Uint8Array): bigint;
    e(value: bigint | number | string): Uint8Array;
  }
  export interface Poseidon {
    (inputs: readonly (bigint | number | string)[]): Uint8Array;
    F: PoseidonField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
}
