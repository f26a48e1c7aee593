// `hearth pull OWNER/REPO:QUANT` of a vision repository, against a local stand-in for Hugging
// Face: the quantization picks the model, never the projector (whose name may carry the same
// quantization), and the projector comes along, saved beside the model under the model's name.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectorFileName, projectorSource, pullProjector } from "../../src/models/projector-pull.ts";
import { pull, resolveQuant, resolveSource } from "../../src/models/pull.ts";

const files: Record<string, string[]> = {
  "acme/vision-GGUF": ["README.md", "vision-7b-F16.gguf", "vision-7b-Q4_K_M.gguf", "mmproj-F16.gguf", "mmproj-BF16.gguf"],
  "acme/text-GGUF": ["text-1b-Q8_0.gguf"],
};
let hub: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  hub = Bun.serve({
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const listing = /^\/api\/models\/(.+)$/.exec(path);
      if (listing) return files[listing[1]!] ? Response.json({ siblings: files[listing[1]!]!.map(rfilename => ({ rfilename })) }) : new Response("no", { status: 404 });
      const file = /^\/(.+?)\/resolve\/main\/(.+)$/.exec(path);
      if (file && files[file[1]!]?.includes(file[2]!)) return new Response(`bytes of ${file[2]}`);
      return new Response("no", { status: 404 });
    },
  });
});
afterAll(() => hub.stop(true));
const endpoint = () => `http://127.0.0.1:${hub.port}`;

test("the quantization picks the model, not the projector named with it", async () => {
  expect(await resolveQuant("acme/vision-GGUF:F16", endpoint())).toBe("acme/vision-GGUF/vision-7b-F16.gguf");
  expect(await resolveQuant("acme/vision-GGUF:Q4_K_M", endpoint())).toBe("acme/vision-GGUF/vision-7b-Q4_K_M.gguf");
});

test("the projector: the one with the quantization in its name, else f16; none for a text repository or a file source", async () => {
  expect(await projectorSource("acme/vision-GGUF:BF16", endpoint())).toBe("acme/vision-GGUF/mmproj-BF16.gguf");
  expect(await projectorSource("acme/vision-GGUF:Q4_K_M", endpoint())).toBe("acme/vision-GGUF/mmproj-F16.gguf");
  expect(await projectorSource("acme/text-GGUF:Q8_0", endpoint())).toBeNull();
  expect(await projectorSource("acme/vision-GGUF/vision-7b-F16.gguf", endpoint())).toBeNull();
});

test("pulling a vision model brings its projector beside it, under the model's name", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-projector-pull-"));
  const source = "acme/vision-GGUF:Q4_K_M";
  const model = await pull({ source: await resolveQuant(source, endpoint()), dir, hfEndpoint: endpoint() });
  expect(model).toBe(join(dir, "vision-7b-Q4_K_M.gguf"));
  const projector = await pullProjector(source, model, { hfEndpoint: endpoint() });
  expect(projector).toBe(join(dir, "vision-7b-Q4_K_M-mmproj-F16.gguf"));
  expect(readFileSync(projector!, "utf8")).toBe("bytes of mmproj-F16.gguf");
  // Already there: not fetched again.
  expect(await pullProjector(source, model, { hfEndpoint: endpoint() })).toBe(projector);
  expect(existsSync(join(dir, "mmproj-F16.gguf"))).toBe(false);
  expect(projectorFileName(model, "acme/x/vision-7b-Q4_K_M-mmproj.gguf")).toBe("vision-7b-Q4_K_M-mmproj.gguf");
  expect(resolveSource("acme/vision-GGUF/mmproj-F16.gguf", endpoint()).fileName).toBe("mmproj-F16.gguf");
});
