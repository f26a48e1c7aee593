// Chat templates are code from model files; they render under limits (src/chat/bounded-template.ts).
// Each hostile template here hung or exhausted the process before: it now ends with a
// TemplateLimitError, deterministically (steps and sizes, never the clock, except in the deadline
// test, which uses a fake clock). Ordinary templates render as before.
import { describe, expect, test } from "bun:test";
import { Template } from "@huggingface/jinja";
import { readFileSync } from "node:fs";
import { BoundedTemplate, limitsFor } from "../../src/chat/bounded-template.ts";
import { ChatRenderer, TemplateError, TemplateLimitError } from "../../src/chat/renderer.ts";
import { conversations, goldenTemplates } from "../fixtures/conversations.ts";
import { llamaSrc } from "../helpers/paths.ts";

const messages = [{ role: "user", content: "Hello" }];
/** A namespace string doubled `n` times: 2^n characters in n steps. */
const doubled = (n: number) => `{% set ns = namespace(s='x') %}{% for i in range(${n}) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}`;

const hostile: Array<[string, string, RegExp]> = [
  ["range(10**9)", "{% for i in range(10**9) %}x{% endfor %}", /steps/],
  ["a list of a billion numbers, never iterated", "{% set xs = range(10**9) %}{{ xs|length }}", /steps/],
  ["nested loops of a billion iterations in all", "{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}", /steps/],
  ["a loop that never ends (recursion through a macro)", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", /nests calls/],
  ["a string doubled 60 times", doubled(60) + "{{ ns.s }}", /characters/],
  ["a list holding itself twice, 60 levels deep, printed", "{% set ns = namespace(a=['xxxxxxxx']) %}{% for i in range(60) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}{{ ns.a|tojson }}", /characters/],
  ["the same, through |string", "{% set ns = namespace(a=['xxxxxxxx']) %}{% for i in range(60) %}{% set ns.a = [ns.a, ns.a] %}{% endfor %}{{ ns.a|string }}", /characters/],
  ["a dict holding itself through a namespace", "{% set ns = namespace(a=1) %}{% set ns.a = [ns] %}{{ ns.a|tojson }}", /deep/],
  ["replace of every gap by the string itself", doubled(12) + "{{ ns.s.replace('', ns.s) }}", /replace would write/],
  ["the |replace filter likewise", doubled(12) + "{{ ns.s|replace('', ns.s) }}", /replace would write/],
  ["indent by a billion", "{{ 'a\\nb\\nc'|indent(1000000000) }}", /indent would write/],
  ["a {% filter %} block indenting by a billion", "{% filter indent(1000000000) %}a\nb{% endfilter %}", /indent would write/],
  ["tojson indented by a billion", "{{ messages|tojson(indent=1000000000) }}", /tojson would write/],
  ["join with a huge separator", doubled(20) + "{{ range(1000)|join(ns.s) }}", /join would write/],
  ["split on every character", doubled(20) + "{{ ns.s.split('x')|length }}", /split would write/],
  ["arguments unpacked into a checked filter", "{{ 'ab'|replace(*['a', 'b']) }}", /unpacks arguments/],
];

describe("hostile templates end with a limit error", () => {
  test.each(hostile)("%s", (_, source, reason) => {
    const template = new BoundedTemplate(source);
    let error: unknown;
    try {
      template.render({ messages });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateLimitError);
    expect((error as Error).message).toMatch(reason);
  });
});

test("the deadline is the backstop for steps that each take long (a fake clock)", () => {
  let now = 0;
  const clock = () => (now += 100);
  const template = new BoundedTemplate("{% for i in range(10000) %}{% if 'z' in 'abc' %}{% endif %}{% endfor %}");
  expect(() => template.render({}, { now: clock, limits: { ms: 1_000 } })).toThrow(/longer than 1000 ms/);
  // The same template with the clock standing still finishes.
  expect(template.render({}, { now: () => 0 })).toBe("");
});

test("limits grow with the conversation (an honest template's cost grows too)", () => {
  const small = limitsFor({ chars: 10, items: 3, messages: 1 });
  const large = limitsFor({ chars: 1_000_000, items: 12_000, messages: 4_000 });
  expect(large.steps).toBeGreaterThan(small.steps * 50);
  expect(large.chars).toBeGreaterThan(small.chars + 7_000_000);
  expect(large.ms).toBeGreaterThan(small.ms);
});

test("checked filters and methods give what the library gives (their inputs are evaluated once, ahead)", () => {
  const source = [
    "{{ 'a-b-c'.replace('-', '+') }}|{{ 'a-b-c'.replace('-', '+', 1) }}|{{ 'a-b-c'|replace('-', '') }}|{{ 'aaa'|replace('a', 'bb', count=2) }}",
    "{{ 'x\ny\n\nz'|indent(2) }}|{{ 'x\ny'|indent(width=3, first=true) }}|{{ 'x\ny'|indent }}",
    "{{ [1, 'two', 3]|join(', ') }}|{{ 'abc'|join('.') }}|{{ ['a', 'b']|join(separator='/') }}",
    "{{ messages|tojson }}|{{ messages|tojson(indent=2) }}|{{ {'b': 1, 'a': [1, 2]}|tojson(sort_keys=true, separators=[',', ':']) }}",
    "{{ 'a b  c'.split()|length }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}",
    "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{{ (m.content ~ ns.n).replace('o', '0') }}{% endfor %}",
    "{% filter upper %}{{ 'inside' }}{% endfilter %}|{% filter replace('a', 'A') %}banana{% endfilter %}",
  ].join("\n");
  const context = { messages: [{ role: "user", content: "Hello" }, { role: "assistant", content: "Hi, how are you?" }] };
  expect(new BoundedTemplate(source).render(context)).toBe(new Template(source).render(context));
});

describe("ordinary templates render as @huggingface/jinja renders them", () => {
  const context = (c: (typeof conversations)[number]) => ({
    messages: c.messages,
    ...(c.tools ? { tools: c.tools } : {}),
    add_generation_prompt: true,
    bos_token: "<s>",
    eos_token: "</s>",
    date_string: "07 Dec 2026",
  });
  test.each(goldenTemplates)("%s", name => {
    const source = readFileSync(`${llamaSrc}/models/templates/${name}.jinja`, "utf8");
    for (const c of conversations) {
      const theirs = (() => {
        try {
          return new Template(source).render(context(c));
        } catch (err) {
          return `error: ${(err as Error).message}`;
        }
      })();
      const ours = (() => {
        try {
          return new BoundedTemplate(source).render(context(c));
        } catch (err) {
          return `error: ${(err as Error).message}`;
        }
      })();
      expect(ours).toBe(theirs);
    }
  });

  test("Gemma 4's template, which looks back over the conversation for each message, renders 300 messages", () => {
    const source = readFileSync(`${llamaSrc}/models/templates/google-gemma-4-31B-it.jinja`, "utf8");
    const long = Array.from({ length: 300 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: `Message ${i}` }));
    const out = new BoundedTemplate(source).render({ messages: long, add_generation_prompt: true, bos_token: "<bos>", eos_token: "<eos>" });
    expect(out).toContain("Message 299");
  });
});

describe("the renderer", () => {
  test("a model whose template never stops: refused with the reason, no fallback template", () => {
    const renderer = new ChatRenderer({ chatTemplate: "{% for i in range(10**9) %}{{ i }}{% endfor %}", bosText: "", eosText: "", modelId: "loops" });
    expect(() => renderer.render(messages as any)).toThrow(TemplateLimitError);
    expect(() => renderer.render(messages as any)).toThrow(/chat template of model loops cannot be rendered within Hearth's limits: it takes more than \d+ steps/);
    expect(renderer.templateSource).toBe("gguf");
  });

  test("a template that only explodes on longer conversations: that conversation is refused, a short one renders", () => {
    // (The renderer's own probes render one and two messages.)
    const source = "{% if messages|length > 2 %}" + doubled(40) + "{{ ns.s }}{% endif %}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}";
    const renderer = new ChatRenderer({ chatTemplate: source, bosText: "", eosText: "", modelId: "late" });
    expect(renderer.render(messages as any).prompt).toBe("<|user|>Hello");
    const three = [...messages, { role: "assistant", content: "Hi" }, { role: "user", content: "Again" }];
    expect(() => renderer.render(three as any)).toThrow(/cannot render this conversation within Hearth's limits: it builds a value of more than/);
  });

  test("a limit error is a TemplateError, so every dialect that answers template refusals answers it", () => {
    expect(new TemplateLimitError("x")).toBeInstanceOf(TemplateError);
  });
});
