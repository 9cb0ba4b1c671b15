// snarkjs ships no type declarations; this covers the part the zkml toolkit uses.
declare module "snarkjs" {
  /** snarkjs calls these with progress text; every method is optional in practice but we pass all. */
  export interface SnarkjsLogger {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  }

  /** A file name or an in-memory file ({ type: "mem" }, filled in by snarkjs). */
  export type SnarkjsFile = string | { type: "mem"; data?: Uint8Array };

  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }

  export interface Groth16VerificationKey {
    protocol: string;
    curve: string;
    nPublic: number;
    vk_alpha_1: string[];
    vk_beta_2: string[][];
    vk_gamma_2: string[][];
    vk_delta_2: string[][];
    vk_alphabeta_12?: unknown;
    IC: string[][];
  }

  export namespace groth16 {
    function prove(
      zkeyFile: SnarkjsFile,
      witnessFile: SnarkjsFile,
      logger?: SnarkjsLogger,
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    function verify(
      vk: Groth16VerificationKey,
      publicSignals: readonly (string | bigint)[],
      proof: Groth16Proof,
      logger?: SnarkjsLogger,
    ): Promise<boolean>;
    /** Solidity calldata text: `[a], [[b]], [c], [inputs]` with 0x-hex numbers. */
    function exportSolidityCallData(proof: Groth16Proof, publicSignals: readonly string[]): Promise<string>;
  }

  export namespace powersOfTau {
    function newAccumulator(curve: unknown, power: number, fileName: string, logger?: SnarkjsLogger): Promise<unknown>;
    function contribute(
      oldFile: string,
      newFile: string,
      name: string,
      entropy: string,
      logger?: SnarkjsLogger,
    ): Promise<unknown>;
    function preparePhase2(oldFile: string, newFile: string, logger?: SnarkjsLogger): Promise<void>;
  }

  export namespace zKey {
    function newZKey(r1csFile: string, ptauFile: string, zkeyFile: string, logger?: SnarkjsLogger): Promise<unknown>;
    function contribute(
      oldFile: string,
      newFile: string,
      name: string,
      entropy: string,
      logger?: SnarkjsLogger,
    ): Promise<unknown>;
    function exportVerificationKey(zkeyFile: SnarkjsFile, logger?: SnarkjsLogger): Promise<Groth16VerificationKey>;
    /** `snarkjs zkey verify`: whether the zkey derives from the r1cs and the ptau (reasons go to logger.error). */
    function verifyFromR1cs(r1csFile: string, ptauFile: string, zkeyFile: string, logger?: SnarkjsLogger): Promise<boolean>;
  }

  export namespace wtns {
    function calculate(
      input: Record<string, unknown>,
      wasmFile: SnarkjsFile,
      wtnsFile: SnarkjsFile,
      options?: Record<string, unknown>,
    ): Promise<void>;
    /** Returns false (and logs through `logger.warn`, which must be given) when a constraint fails. */
    function check(r1csFile: SnarkjsFile, wtnsFile: SnarkjsFile, logger: SnarkjsLogger): Promise<boolean>;
    function exportJson(wtnsFile: SnarkjsFile): Promise<bigint[]>;
  }

  export namespace r1cs {
    function info(
      r1csFile: string,
      logger?: SnarkjsLogger,
    ): Promise<{ nConstraints: number; nVars: number; nOutputs: number; nPubInputs: number; nPrvInputs: number }>;
  }

  export namespace curves {
    function getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<unknown>;
  }
}

// circom_runtime (snarkjs's witness runtime): the part the warm prover uses to keep a compiled witness
// generator between proofs.
declare module "circom_runtime" {
  export interface WitnessCalculator {
    /** The witness as an iden3 .wtns file (version 2). */
    calculateWTNSBin(input: Record<string, unknown>, sanityCheck?: boolean): Promise<Uint8Array>;
  }
  export function WitnessCalculatorBuilder(code: Uint8Array, options?: Record<string, unknown>): Promise<WitnessCalculator>;
}
