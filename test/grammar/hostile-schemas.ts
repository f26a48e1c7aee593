// JSON Schemas that are small as text but expensive to convert naively (issue 23, finding 1):
// shared by the converter's unit tests, the server test and the HTTP fuzz.

/** `levels` nested objects, each with an anyOf of two `required` lists beside its properties. */
export function anyOfBesideProperties(levels: number): object {
  let schema: object = { type: "string" };
  for (let i = 0; i < levels; i++) schema = { type: "object", properties: { a: schema }, anyOf: [{ required: ["a"] }, { required: ["a"], title: "x" }] };
  return schema;
}

/** `levels` nested objects whose `type` names "object" twice. */
export function typeArrayOfObjects(levels: number): object {
  let schema: object = { type: "string" };
  for (let i = 0; i < levels; i++) schema = { type: ["object", "object"], properties: { a: schema } };
  return schema;
}

/** An anyOf of `n` different constants: one rule each. */
export function wideAnyOf(n: number): object {
  return { anyOf: Array.from({ length: n }, (_, i) => ({ const: `value-${i}` })) };
}
