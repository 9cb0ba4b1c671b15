/**
 * Every `opg` command descriptor resolves to the command its module exports, with the same summary, and
 * every command a module exports is registered (a module's new command cannot be forgotten in the registry).
 */
import { expect } from "chai";
import { commands } from "../src/cli/commands/index.ts";
import { loadCommand } from "../src/cli/main.ts";
import type { CliCommand } from "../src/cli/types.ts";

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

  it("every command the modules export has an entry", async function () {
    const registered = new Set(commands.map((c) => c.path.join(" ")));
    for (const load of new Set(commands.map((c) => c.load))) {
      const exported = Object.values(await load()).flatMap((value) => (Array.isArray(value) ? value : [value]));
      for (const value of exported) {
        if (typeof value !== "object" || value === null || !Array.isArray((value as CliCommand).path) || typeof (value as CliCommand).run !== "function") continue;
        expect(registered.has((value as CliCommand).path.join(" ")), (value as CliCommand).path.join(" ")).to.equal(true);
      }
    }
  });
});
