// `d.items()` is the dict's method, as Python's Jinja2 reads it, even when the dict has a key
// named "items" (gpt-oss's template calls `properties.items()`, and Codex's tools have parameters
// named "items"); the key is still there for `d['items']`. The same for keys, values and get.
import { expect, test } from "bun:test";
import { BoundedTemplate } from "../../src/chat/bounded-template.ts";

const d = { items: ["a", "b"], keys: 1, values: 2, get: 3, other: 4 };

test("a dict's methods win over its keys of the same name for '.', the keys stay reachable with []", () => {
  const render = (source: string) => new BoundedTemplate(source).render({ d });
  expect(render("{% for k, v in d.items() %}{{ k }};{% endfor %}")).toBe("items;keys;values;get;other;");
  expect(render("{{ d.keys()|join(',') }}|{{ d.values()|length }}|{{ d.get('other') }}|{{ d.get('nope', 'dflt') }}")).toBe("items,keys,values,get,other|5|4|dflt");
  expect(render("{{ d['items']|join(',') }} {{ d['get'] }}")).toBe("a,b 3");
  // Other attributes read keys as before.
  expect(render("{{ d.other }}")).toBe("4");
});

test("on something that is not a dict, the same names behave as the library makes them", () => {
  expect(new BoundedTemplate("{{ s.items is defined }}|{{ xs|length }}").render({ s: "str", xs: [1, 2] })).toBe("false|2");
});
