// One table per command (src/options/) is the only definition of its flags: the parser accepts
// exactly its entries, `hearth serve --help` prints them, docs/configuration.md's flag block is
// generated from them, hearth.json has a key for every entry that names one, and the defaults
// other modules use are the table's. No model needed.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configSchema } from "../../src/models/config.ts";
import { LIST, PS, PULL, SERVE, WORKER, type Command } from "../../src/options/commands.ts";
import { DOCS_FILE, flagsRegion, withFlagsRegion } from "../../src/options/docs.ts";
import { entryLines, optionLines } from "../../src/options/help.ts";
import { defaultValue, type OptionSpec, type OptionTable } from "../../src/options/option.ts";
import { parseOptions, UsageError } from "../../src/options/parse.ts";
import { SERVE_DEFAULTS, SERVE_OPTIONS } from "../../src/options/serve.ts";
import { HEARTH_VERSION, VERSION_LINE } from "../../src/util/version.ts";
import { repoRoot } from "../helpers/paths.ts";

const commands: Array<[string, Command<OptionTable>]> = [
  ["serve", SERVE],
  ["worker", WORKER],
  ["pull", PULL],
  ["list", LIST],
  ["ps", PS],
];
const noEnv = { env: {} };

/** A value the entry accepts, and what the parser should make of it. */
function sample(spec: OptionSpec): { raw?: string; value: unknown } {
  switch (spec.kind) {
    case "int": {
      const n = Math.max(spec.min ?? 0, 7);
      return { raw: String(n), value: n };
    }
    case "enum":
      return { raw: spec.choices!.at(-1)!, value: spec.choices!.at(-1) };
    case "list":
      return spec.item === "number" ? { raw: "1, 2.5", value: [1, 2.5] } : { raw: "a.example, b.example", value: ["a.example", "b.example"] };
    case "bool":
      return { value: true };
    default:
      return { raw: "some-value", value: "some-value" };
  }
}

describe.each(commands)("hearth %s", (name, command) => {
  test("every entry parses in its long and short forms, to the table's type", () => {
    for (const [flag, spec] of Object.entries(command.options)) {
      const { raw, value } = sample(spec);
      const expected = spec.repeat && spec.kind !== "list" ? [value] : value;
      for (const form of [`--${flag}`, ...(spec.short ?? []).map(s => `-${s}`)]) {
        const args = raw === undefined ? [form] : [form, raw];
        const { values } = parseOptions(command.options, args, { ...noEnv, positionals: command.positionals });
        expect({ form, value: (values as Record<string, unknown>)[flag] }).toEqual({ form, value: expected });
      }
    }
  });

  test("a flag outside the table is refused", () => {
    expect(() => parseOptions(command.options, ["--no-such-flag"], noEnv)).toThrow(UsageError);
  });

  test("with no flags, every entry has its default (or nothing)", () => {
    const { values } = parseOptions(command.options, [], noEnv);
    for (const [flag, spec] of Object.entries(command.options)) {
      const want = spec.kind === "bool" ? false : defaultValue(spec);
      expect({ flag, value: (values as Record<string, unknown>)[flag] }).toEqual({ flag, value: want });
    }
  });

  test("--help answers instead of parsing", () => {
    expect(parseOptions(command.options, ["--port", "x", "--help"], noEnv).help).toBe(true);
  });
});

test("`hearth serve --help` prints every entry of the table, in its order, and exits 0", () => {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "serve", "--help"], { stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  const text = run.stdout.toString();
  const lines = text.slice(text.indexOf("Options:\n") + "Options:\n".length).trimEnd().split("\n");
  expect(lines).toEqual([...optionLines(SERVE_OPTIONS), ...entryLines("help", { kind: "bool", short: ["h"], help: "show this help" })]);
  // The Claude Code recipe (issue 25): an Anthropic client reaches a local model through a pattern alias.
  expect(text).toContain("--alias 'claude-*=");
  expect(text).toContain("ANTHROPIC_BASE_URL=http://127.0.0.1:8080");
  for (const [flag, spec] of Object.entries(SERVE_OPTIONS)) {
    expect(text).toContain(`--${flag}${"arg" in spec ? ` ${spec.arg}` : ""}`);
    for (const s of "short" in spec ? spec.short : []) expect(text).toContain(`-${s}, `);
  }
});

test(`${DOCS_FILE}'s flag block is the tables' (regenerate: bun scripts/gen-docs.ts)`, () => {
  const text = readFileSync(join(repoRoot, DOCS_FILE), "utf8");
  expect(text).toContain(flagsRegion());
  expect(withFlagsRegion(text)).toBe(text);
  for (const line of optionLines(SERVE_OPTIONS)) expect(text).toContain(line);
});

test("every flag with a hearth.json key has that key in a model's entry of the config schema", () => {
  const models = configSchema.properties.models as unknown as { patternProperties: Record<string, { properties: Record<string, unknown> }> };
  const modelKeys = Object.keys(Object.values(models.patternProperties)[0]!.properties);
  const flagKeys = Object.values(SERVE_OPTIONS).flatMap(spec => ("config" in spec ? [spec.config] : []));
  expect(flagKeys.length).toBeGreaterThan(0);
  expect(modelKeys).toEqual(expect.arrayContaining(flagKeys));
});

test("SERVE_DEFAULTS are the table's defaults", () => {
  expect(SERVE_DEFAULTS["rpc-timeout"]).toBe(120);
  expect(SERVE_DEFAULTS["shutdown-timeout"]).toBe(30);
  expect(SERVE_DEFAULTS["max-stream-buffer"]).toBe(4 << 20);
  expect(SERVE_DEFAULTS.threads).toBeGreaterThan(0);
});

test("bad values name the flag and the rule; environment variables fill in", () => {
  const message = (table: OptionTable, args: string[]) => {
    try {
      parseOptions(table, args, noEnv);
    } catch (err) {
      return (err as Error).message;
    }
    return "parsed";
  };
  expect(message(SERVE_OPTIONS, ["-ngl", "-1"])).toBe("--gpu-layers must be a non-negative integer, got '-1'");
  expect(message(SERVE_OPTIONS, ["-c", "-5", "-t", "2"])).toBe("--ctx-size must be a non-negative integer, got '-5'");
  expect(message(SERVE_OPTIONS, ["--ctx-size", "4k"])).toBe("--ctx-size must be a non-negative integer, got '4k'");
  expect(message(SERVE_OPTIONS, ["--load-mode", "x"])).toBe("--load-mode must be one of auto, mmap, read, got 'x'");
  expect(message(SERVE_OPTIONS, ["-ts", "1,x"])).toBe("--tensor-split must be up to 16 non-negative numbers separated by commas, got '1,x'");
  expect(message(WORKER.options, ["--port", "99999"])).toBe("--port must be 1-65535, got '99999'");
  expect(message(WORKER.options, ["-t", "0"])).toBe("--threads must be a positive integer, got '0'");
  const env = { HEARTH_API_KEY: "from-env", HF_ENDPOINT: "https://mirror.example" };
  const { values } = parseOptions(SERVE_OPTIONS, ["--api-key", "a", "--api-key", "b"], { env });
  expect(values["api-key"]).toEqual(["a", "b", "from-env"]);
  expect(values["hf-endpoint"]).toBe("https://mirror.example");
  expect(parseOptions(SERVE_OPTIONS, ["--hf-endpoint", "https://flag.example"], { env }).values["hf-endpoint"]).toBe("https://flag.example");
  expect(parseOptions(SERVE_OPTIONS, ["--allowed-hosts", "a.example,b.example", "--allowed-hosts", "c.example"], noEnv).values["allowed-hosts"]).toEqual(["a.example", "b.example", "c.example"]);
});

test("`hearth --version` is the one version line, with package.json's version", () => {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/src/cli.ts`, "--version"], { stdout: "pipe" });
  expect(run.stdout.toString().trim()).toBe(VERSION_LINE);
  expect(HEARTH_VERSION).toBe(JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).version);
});
