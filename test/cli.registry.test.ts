/** Every `opg` command descriptor resolves to the command its module exports, with the same summary. */
import { expect } from "chai";
import { commands } from "../src/cli/commands/index.ts";
import { loadCommand } from "../src/cli/main.ts";

describe("cli: lazy command registry", function () {
  it("every entry loads its command, paths are unique and summaries match the modules", async function () {
    const paths = commands.map((c) => c.path.join(" "));
    expect(new Set(paths).size).to.equal(paths.length);
    for (const entry of commands) {
      const command = await loadCommand(entry);
      expect(command.path).to.deep.equal(entry.path);
      expect(command.summary, entry.path.join(" ")).to.equal(entry.summary);
      expect(command.usage).to.match(/^Usage: opg /);
    }
  });
});
