/** The library never depends on the CLI: no file outside src/cli imports from it (issue #8, item 24). */
import { expect } from "chai";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");
const CLI = join(SRC, "cli");

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sources(path)));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

describe("zkml: the library does not import the CLI", () => {
  it("no module outside src/cli imports a module inside it", async () => {
    const offenders: string[] = [];
    for (const file of await sources(SRC)) {
      if (file.startsWith(CLI + "/")) continue;
      const text = await readFile(file, "utf8");
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
        const specifier = match[1]!;
        if (!specifier.startsWith(".")) continue;
        const target = resolve(dirname(file), specifier);
        if (target === CLI || target.startsWith(CLI + "/")) offenders.push(`${relative(SRC, file)} → ${specifier}`);
      }
    }
    expect(offenders).to.deep.equal([]);
  });
});
