// What a request's `model` names (src/models/model-names.ts): aliases, ids, `*` patterns and the
// default model, with CONVENTIONS.md's precedence. Pure: no files, no models.
import { expect, test } from "bun:test";
import { ModelNotNamedError } from "../../src/models/errors.ts";
import { ModelNames } from "../../src/models/model-names.ts";

const ids = ["qwen3-coder", "llama-3b", "gemma"];

test("an exact alias beats a pattern, and an id beats a pattern", () => {
  const names = new ModelNames({ aliases: { "claude-*": "qwen3-coder", "claude-opus-4": "gemma", "llama-*": "gemma" } });
  expect(names.resolve("claude-opus-4", ids)).toBe("gemma");
  expect(names.resolve("claude-sonnet-4-5", ids)).toBe("qwen3-coder");
  expect(names.resolve("llama-3b", ids)).toBe("llama-3b");
  expect(names.resolve("llama-8b", ids)).toBe("gemma");
});

test("the longest pattern wins; of equal length, the one given first", () => {
  const names = new ModelNames({ aliases: { "*": "gemma", "claude-*": "qwen3-coder", "claude-3-*": "llama-3b", "*-haiku": "gemma", "*-hai*u": "llama-3b" } });
  expect(names.resolve("claude-3-opus", ids)).toBe("llama-3b");
  expect(names.resolve("claude-opus-4", ids)).toBe("qwen3-coder");
  expect(names.resolve("gpt-4o", ids)).toBe("gemma");
  expect(names.resolve("x-haiku", ids)).toBe("gemma"); // "*-haiku" and "*-hai*u" are both 7 long
  // `*` is the only wildcard: other pattern characters are literal.
  const literal = new ModelNames({ aliases: { "a.b*": "gemma" } });
  expect(literal.resolve("a.b-1", ids)).toBe("gemma");
  expect(literal.resolve("axb-1", ids)).toBe("axb-1");
});

test("a name nothing matches comes back as given, for the caller to refuse", () => {
  expect(new ModelNames({ aliases: { "claude-*": "gemma" } }).resolve("gpt-4o", ids)).toBe("gpt-4o");
});

test("omitted or empty: --default-model, else the only model, else ModelNotNamedError", () => {
  expect(new ModelNames().resolve(undefined, ["solo"])).toBe("solo");
  expect(new ModelNames().resolve("", ["solo"])).toBe("solo");
  expect(new ModelNames().resolve(null, ["solo"])).toBe("solo");
  expect(() => new ModelNames().resolve(undefined, ids)).toThrow(ModelNotNamedError);
  expect(() => new ModelNames().resolve("", ids)).toThrow(/names no model and this server serves 3/);
  expect(new ModelNames({ defaultModel: "gemma" }).resolve(undefined, ids)).toBe("gemma");
  // --default-model may be an alias (or a pattern's match) too.
  expect(new ModelNames({ defaultModel: "coder", aliases: { coder: "qwen3-coder" } }).resolve("", ids)).toBe("qwen3-coder");
  expect(new ModelNames({ defaultModel: "gemma" }).defaultId(ids)).toBe("gemma");
  expect(new ModelNames().defaultId(ids)).toBeUndefined();
});

test("a bare alias names the default model", () => {
  expect(new ModelNames({ bareAliases: ["test"] }).resolve("test", ["solo"])).toBe("solo");
  expect(new ModelNames({ bareAliases: ["test"], defaultModel: "gemma" }).resolve("test", ids)).toBe("gemma");
  expect(() => new ModelNames({ bareAliases: ["test"] }).resolve("test", ids)).toThrow(ModelNotNamedError);
  // A bare alias that is also --default-model cannot name itself: the only model then.
  expect(new ModelNames({ bareAliases: ["test"], defaultModel: "test" }).resolve("test", ["solo"])).toBe("solo");
});

test("aliasesOf lists a model's names, patterns as given", () => {
  const names = new ModelNames({ aliases: { coder: "qwen3-coder", "claude-*": "qwen3-coder", small: "gemma" }, bareAliases: ["test"], defaultModel: "qwen3-coder" });
  expect(names.aliasesOf("qwen3-coder", ids)).toEqual(["coder", "test", "claude-*"]);
  expect(names.aliasesOf("gemma", ids)).toEqual(["small"]);
});
