/**
 * Powers of tau (phase 1 of the Groth16 setup). Production builds take a ptau from a public ceremony
 * (`--ptau`); without one we make a local one, which is fine for development and tests but not for
 * production: whoever made it knows tau. Builds that used a local ptau say so in their metadata
 * (`developmentOnly: true`).
 *
 * Local ptaus are cached outside the repository, in `$OPG_CACHE_DIR/ptau/` or else
 * `~/.cache/opg-verifier/ptau/`, one file per power. A ptau of power P serves every circuit that needs
 * power ≤ P, so the largest cached one is reused.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, link, rm, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { snarkjs } from "./snarkjs.ts";
import type { ProgressListener } from "./progress.ts";
import { CircuitBuildError } from "./errors.ts";
import { firstLine, snarkjsLogger, step } from "./progress.ts";

/**
 * Largest power we generate locally (2^17 = 131,072 constraints). `prepare phase2` dominates and
 * grows steeply with the power (measured: power 15 in 66 min on a shared machine under load ~14; the bench's
 * "ptau" entry times power 17); beyond that, or to save the time, use a ceremony file (--ptau).
 */
export const MAX_LOCAL_PTAU_POWER = 17;

const LOCAL_PTAU = /^opg-dev-pot(\d+)\.ptau$/;

/** Where the toolkit caches what is slow to make (ptaus, circuit builds): $OPG_CACHE_DIR or ~/.cache/opg-verifier. */
export function opgCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const base = env["OPG_CACHE_DIR"];
  return base !== undefined && base !== "" ? base : join(homedir(), ".cache", "opg-verifier");
}

export function ptauCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(opgCacheDir(env), "ptau");
}

/**
 * The power snarkjs needs for a circuit: 2^power must exceed constraints + public signals
 * (snarkjs adds one constraint per public signal and the constant one).
 */
export function requiredPtauPower(nConstraints: number, nPublic: number): number {
  const total = nConstraints + nPublic;
  return Math.max(1, Math.floor(Math.log2(total)) + 1);
}

/** Reads the power and checks that the file is a prepared BN254 ptau. */
export async function readPtauInfo(path: string): Promise<{ power: number; prepared: boolean }> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new CircuitBuildError(`cannot read ptau file ${path}`, { cause: error });
  }
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    if (head.toString("latin1", 0, 4) !== "ptau") throw new CircuitBuildError(`${path} is not a ptau file`);
    const nSections = head.readUInt32LE(8);
    let offset = 12;
    let power: number | undefined;
    const sections = new Set<number>();
    const header = Buffer.alloc(12);
    for (let i = 0; i < nSections; i++) {
      await handle.read(header, 0, 12, offset);
      const type = header.readUInt32LE(0);
      const size = Number(header.readBigUInt64LE(4));
      sections.add(type);
      if (type === 1) {
        const body = Buffer.alloc(Math.min(size, 64));
        await handle.read(body, 0, body.length, offset + 12);
        const n8 = body.readUInt32LE(0);
        power = body.readUInt32LE(4 + n8);
      }
      offset += 12 + size;
    }
    if (power === undefined) throw new CircuitBuildError(`${path}: ptau file has no header`);
    // Sections 12-15 are the Lagrange bases written by `prepare phase2`; newZKey needs them.
    return { power, prepared: sections.has(12) };
  } finally {
    await handle.close();
  }
}

/** The smallest cached local ptau of power ≥ `power`, if any. */
export async function findCachedPtau(power: number, cacheDir = ptauCacheDir()): Promise<{ path: string; power: number } | undefined> {
  let names: string[];
  try {
    names = await readdir(cacheDir);
  } catch {
    return undefined;
  }
  const candidates = names
    .map((name) => ({ name, power: Number(LOCAL_PTAU.exec(name)?.[1] ?? NaN) }))
    .filter((c) => Number.isInteger(c.power) && c.power >= power)
    .sort((a, b) => a.power - b.power);
  const best = candidates[0];
  return best === undefined ? undefined : { path: join(cacheDir, best.name), power: best.power };
}

/**
 * Returns a cached local ptau of power ≥ `power`, generating one of exactly `power` if none exists:
 * `powersoftau new`, one contribution with fresh random entropy, then `prepare phase2`. Files appear
 * in the cache only when complete (written under a temporary name, then linked to their name; when two
 * processes generate the same power at once, the first one's file stays).
 */
export async function ensureDevPtau(
  power: number,
  options: { cacheDir?: string; onProgress?: ProgressListener } = {},
): Promise<{ path: string; power: number }> {
  if (!Number.isInteger(power) || power < 1 || power > MAX_LOCAL_PTAU_POWER) {
    throw new CircuitBuildError(
      `a local ptau of power ${power} is not generated (max ${MAX_LOCAL_PTAU_POWER}): pass --ptau with a ceremony file`,
    );
  }
  const cacheDir = options.cacheDir ?? ptauCacheDir();
  const cached = await findCachedPtau(power, cacheDir);
  if (cached !== undefined) return cached;

  await mkdir(cacheDir, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const fresh = join(cacheDir, `.tmp-${tag}-0.ptau`);
  const contributed = join(cacheDir, `.tmp-${tag}-1.ptau`);
  const prepared = join(cacheDir, `.tmp-${tag}-2.ptau`);
  const finalPath = join(cacheDir, `opg-dev-pot${power}.ptau`);
  const onProgress = options.onProgress;
  let current = `ptau ${power}: new`;
  const named = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    current = name;
    return step(name, onProgress, work);
  };
  try {
    const sj = await snarkjs();
    const curve = await sj.curves.getCurveFromName("bn128");
    await named(`ptau ${power}: new`, () =>
      sj.powersOfTau.newAccumulator(curve, power, fresh, snarkjsLogger(`ptau ${power}: new`, onProgress)),
    );
    await named(`ptau ${power}: contribute`, () =>
      sj.powersOfTau.contribute(
        fresh,
        contributed,
        "opg-verifier local development contribution",
        randomBytes(64).toString("hex"),
        snarkjsLogger(`ptau ${power}: contribute`, onProgress),
      ),
    );
    await named(`ptau ${power}: prepare phase2`, () =>
      sj.powersOfTau.preparePhase2(contributed, prepared, snarkjsLogger(`ptau ${power}: prepare phase2`, onProgress)),
    );
    // Another process may have finished the same power first: keep its file (builds may already use it)
    // rather than replace it with another ceremony under the same name.
    try {
      await link(prepared, finalPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  } catch (error) {
    throw new CircuitBuildError(`generating a local ptau of power ${power} failed at "${current}": ${firstLine(error)}`, { cause: error });
  } finally {
    await Promise.all([fresh, contributed, prepared].map((p) => rm(p, { force: true })));
  }
  await stat(finalPath);
  return { path: finalPath, power };
}
