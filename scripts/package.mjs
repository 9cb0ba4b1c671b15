// Completes dist/ after `tsc -p tsconfig.build.json` (plain node: runs before anything is compiled):
// - dist/types/: the declarations for snarkjs and circomlibjs (they ship none) that dist/**/*.d.ts
//   reference, so a consumer's strict tsc (skipLibCheck off) type-checks the package;
// - dist/artifacts/<Name>.json: Hardhat artifacts of the system's contracts (ABI, bytecode), for
//   `opg-verifier/artifacts/*` and the packaged Ignition module. Needs `hardhat compile` first;
//   with --require-artifacts (prepack) a missing one is an error.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "dist");
if (!existsSync(join(dist, "index.js"))) {
  console.error("dist/index.js is missing: run tsc -p tsconfig.build.json first");
  process.exit(1);
}
cpSync(join(root, "src", "types"), join(dist, "types"), { recursive: true });
// tsc keeps `/// <reference path>` pointing at src/types (not emitted): point them at dist/types.
function* declarations(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (entry.name.endsWith(".d.ts")) yield path;
  }
}
for (const file of declarations(dist)) {
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(/(\/\/\/ <reference path=")((?:\.\.\/)+)src\/types\//g, (_, head, ups) => `${head}${ups.slice(3)}types/`);
  if (fixed !== text) writeFileSync(file, fixed);
}

// Every deployable contract outside contracts/test and contracts/mocks.
const artifactsRoot = join(root, "artifacts", "contracts");
const skip = new Set(["test", "mocks"]);
function* artifactFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.has(entry.name)) yield* artifactFiles(path);
    } else if (entry.name.endsWith(".json") && !entry.name.endsWith(".dbg.json") && basename(dir).endsWith(".sol") && entry.name !== "artifacts.d.ts") {
      yield path;
    }
  }
}
if (!existsSync(artifactsRoot)) {
  if (process.argv.includes("--require-artifacts")) {
    console.error("artifacts/contracts is missing: run hardhat compile first");
    process.exit(1);
  }
  console.error("dist/types written (no artifacts: run `hardhat compile` and `npm run build` to package them)");
} else {
  mkdirSync(join(dist, "artifacts"), { recursive: true });
  let count = 0;
  for (const file of artifactFiles(artifactsRoot)) {
    const a = JSON.parse(readFileSync(file, "utf8"));
    if (typeof a.contractName !== "string" || !Array.isArray(a.abi)) continue;
    const { _format, contractName, sourceName, abi, bytecode, deployedBytecode, linkReferences, deployedLinkReferences } = a;
    writeFileSync(
      join(dist, "artifacts", `${contractName}.json`),
      JSON.stringify({ _format, contractName, sourceName, abi, bytecode, deployedBytecode, linkReferences, deployedLinkReferences }) + "\n",
    );
    count++;
  }
  console.error(`dist/types and ${count} contract artifacts written`);
}
