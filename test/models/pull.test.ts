// hearth pull against a local HTTP server: full download, an interrupted download resumed
// (with and without Range support), a checksum mismatch rejected, never a partial file under the
// final name.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pull, resolveSource } from "../../src/models/pull.ts";
import { defaultModel, repoRoot } from "../helpers/paths.ts";
import { freePort } from "../helpers/server.ts";

const model = new Uint8Array(readFileSync(defaultModel));
const sha256 = createHash("sha256").update(model).digest("hex");
/** Requests that should be cut off after this many bytes (then the counter resets). */
let cutAfter: number | null = null;
/** Bytes the server sent in its last complete answer. */
let lastServed = 0;
let server: ReturnType<typeof Bun.serve>;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const ranged = path.includes("/range/");
      const range = req.headers.get("range");
      let start = 0;
      if (ranged && range) start = Number(/bytes=(\d+)-/.exec(range)![1]);
      const body = model.subarray(start);
      const headers: Record<string, string> = { "content-length": String(body.length), "content-type": "application/octet-stream" };
      if (path.endsWith("with-etag.gguf")) headers["x-linked-etag"] = `"${sha256}"`;
      if (path.endsWith("bad-etag.gguf")) headers["x-linked-etag"] = `"${"0".repeat(64)}"`;
      const status = ranged && range ? 206 : 200;
      if (cutAfter !== null) {
        const n = cutAfter;
        cutAfter = null;
        const stream = new ReadableStream({
          start(controller) {
            controller.enqueue(body.subarray(0, n));
            setTimeout(() => controller.error(new Error("connection lost")), 20);
          },
        });
        return new Response(stream, { status, headers });
      }
      lastServed = body.length;
      return new Response(body, { status, headers });
    },
  });
});
afterAll(() => server.stop(true));

const url = (name: string) => `http://127.0.0.1:${server.port}/${name}`;
const freshDir = () => mkdtempSync(join(tmpdir(), "hearth-pull-"));

test("a full download lands under its own name with the right bytes", async () => {
  const dir = freshDir();
  const seen: number[] = [];
  const path = await pull({ source: url("range/full.gguf"), dir, sha256, onProgress: d => seen.push(d) });
  expect(path).toBe(join(dir, "full.gguf"));
  expect(createHash("sha256").update(readFileSync(path)).digest("hex")).toBe(sha256);
  expect(seen.at(-1)).toBe(model.length);
  expect(existsSync(`${path}.part`)).toBe(false);
});

test.each([["range", true], ["plain", false]])("an interrupted download resumes (%s server)", async (kind, ranged) => {
  const dir = freshDir();
  const name = `${kind}/resume.gguf`;
  cutAfter = 400_000;
  await expect(pull({ source: url(name), dir, sha256 })).rejects.toThrow();
  expect(existsSync(join(dir, "resume.gguf"))).toBe(false); // nothing under the final name
  expect(statSync(join(dir, "resume.gguf.part")).size).toBe(400_000);
  const path = await pull({ source: url(name), dir, sha256 });
  expect(createHash("sha256").update(readFileSync(path)).digest("hex")).toBe(sha256);
  // With Range the second request only fetched the rest; without it, it started over.
  expect(lastServed).toBe(ranged ? model.length - 400_000 : model.length);
});

test("a checksum mismatch is rejected and leaves no file (given, or from X-Linked-Etag)", async () => {
  const dir = freshDir();
  await expect(pull({ source: url("range/wrong.gguf"), dir, sha256: "f".repeat(64) })).rejects.toThrow(/does not match/);
  expect(existsSync(join(dir, "wrong.gguf"))).toBe(false);
  expect(existsSync(join(dir, "wrong.gguf.part"))).toBe(false);
  await expect(pull({ source: url("range/bad-etag.gguf"), dir })).rejects.toThrow(/does not match/);
  expect(existsSync(await pull({ source: url("range/with-etag.gguf"), dir }))).toBe(true);
});

test("Hugging Face names resolve to resolve URLs on the chosen endpoint", () => {
  expect(resolveSource("Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_0.gguf", "http://mirror.test").url).toBe(
    "http://mirror.test/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q4_0.gguf",
  );
  expect(resolveSource("o/r/sub/f.gguf@v2").url).toBe("https://huggingface.co/o/r/resolve/v2/sub/f.gguf");
  expect(() => resolveSource("not-a-model")).toThrow(/OWNER\/REPO\/FILE.gguf/);
});

test("`hearth pull URL --dir D` downloads and prints the path", async () => {
  const dir = freshDir();
  // Not spawnSync: the test server lives in this process and must keep answering.
  const run = Bun.spawn([process.execPath, `${repoRoot}/src/cli.ts`, "pull", url("range/cli.gguf"), "--dir", dir, "--sha256", sha256], { stdout: "pipe", stderr: "pipe" });
  expect(await run.exited).toBe(0);
  expect((await new Response(run.stdout).text()).trim()).toBe(join(dir, "cli.gguf"));
  expect(await new Response(run.stderr).text()).toContain("100%");
});

test("`hearth serve -hf OWNER/REPO:QUANT` picks the file from the repository listing, pulls it and serves it", async () => {
  const hub = Bun.serve({
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/api/models/owner/repo") {
        return Response.json({ siblings: [{ rfilename: "README.md" }, { rfilename: "tiny-q8_0.gguf" }, { rfilename: "tiny-q4_0.gguf" }] });
      }
      if (path === "/owner/repo/resolve/main/tiny-q4_0.gguf") return new Response(model);
      return new Response("not found", { status: 404 });
    },
  });
  const home = freshDir();
  const port = await freePort();
  const proc = Bun.spawn(
    [process.execPath, `${repoRoot}/src/cli.ts`, "serve", "-hf", "owner/repo:Q4_0", "--hf-endpoint", `http://127.0.0.1:${hub.port}`, "--port", String(port), "--threads", "1"],
    { env: { ...process.env, HEARTH_HOME: home }, stdout: "ignore", stderr: "ignore" },
  );
  try {
    let answer: any;
    for (let i = 0; i < 100 && !answer; i++) {
      await Bun.sleep(100);
      const res = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "tiny-q4_0", prompt: "Once", max_tokens: 4 }),
      }).catch(() => null);
      if (res?.ok) answer = await res.json();
    }
    expect(answer?.usage?.completion_tokens).toBe(4);
    expect(existsSync(join(home, "models", "tiny-q4_0.gguf"))).toBe(true);
  } finally {
    proc.kill("SIGKILL");
    hub.stop(true);
  }
});
