#!/usr/bin/env python3
"""Hearth against llama-server, both already up, taking turns in ABBA order (standard library only,
so it runs on a bare lent machine).

  python3 bench/device/abba.py --a http://127.0.0.1:8080 --b http://127.0.0.1:8081 --model NAME
                               [--rounds 4] [--tokens 256] [--streams 4]

Each round runs, on each server in turn (A B, then B A, ...: a drift of the machine's speed lands on
both), one streamed completion (greedy, ignore_eos, --tokens out) and then --streams concurrent ones,
each with a fresh prompt. Per round it prints each server's figures and the round's A/B ratio; at the
end the median of those paired ratios and their spread, and whether both servers' greedy texts for
the same prompt are identical. Exit code 0 whatever the ratios (the figures are the result); 2 when
a request failed or the texts differ.
"""
import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse

WORDS = "river mountain lantern quiet engine garden silver window harbor pencil thunder meadow copper violet anchor canvas".split()


def prompt(seed: int, words: int = 48) -> str:
    x = (seed * 2654435761) % 4294967296
    out = []
    for _ in range(words):
        x = (x * 1103515245 + 12345) % 2147483648
        out.append(WORDS[x % len(WORDS)])
    return " ".join(out)


def stream_completion(url: str, model: str, text: str, tokens: int) -> dict:
    """One streamed completion: client-side decode rate after the first token, and the text."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = json.dumps({"model": model, "prompt": text, "max_tokens": tokens, "temperature": 0,
                       "ignore_eos": True, "stream": True})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/completions", body, {"content-type": "application/json"})
    res = conn.getresponse()
    if res.status != 200:
        raise RuntimeError(f"{url}: HTTP {res.status}: {res.read()[:300]!r}")
    first = last = 0.0
    chunks = 0
    out = []
    for raw in res:
        line = raw.decode("utf-8", "replace").strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if "error" in event:
            raise RuntimeError(f"{url}: {event['error']}")
        piece = (event.get("choices") or [{}])[0].get("text") or ""
        if piece:
            now = time.perf_counter()
            first = first or now
            last = now
            chunks += 1
            out.append(piece)
    conn.close()
    # Tokens, not chunks (ignore_eos: exactly `tokens` come out): Hearth joins a stream's tokens
    # between sends (--stream-interval), llama-server sends one a chunk.
    return {"ttft_ms": (first - t0) * 1000, "tps": (tokens - 1) / (last - first) if last > first else 0.0,
            "chunks": chunks, "tokens": tokens, "text": "".join(out), "wall": time.perf_counter() - t0}


def concurrent(url: str, model: str, texts: list, tokens: int) -> dict:
    results = [None] * len(texts)
    errors = []

    def run(i: int) -> None:
        try:
            results[i] = stream_completion(url, model, texts[i], tokens)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    wall = time.perf_counter() - t0
    return {"aggregate_tps": sum(r["tokens"] for r in results) / wall, "per_stream_tps": statistics.median(r["tps"] for r in results)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--a", required=True, help="Hearth's URL")
    p.add_argument("--b", required=True, help="llama-server's URL")
    p.add_argument("--model", required=True)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--tokens", type=int, default=256)
    p.add_argument("--streams", type=int, default=4)
    a = p.parse_args()
    servers = {"hearth": a.a, "llama-server": a.b}
    seed = int(time.time()) % 100000
    # Warm-up (one of each workload per server): not timed.
    for url in servers.values():
        stream_completion(url, a.model, prompt(seed), a.tokens)
        concurrent(url, a.model, [prompt(seed + 1 + k) for k in range(a.streams)], a.tokens)
    rows = {name: [] for name in servers}
    for r in range(a.rounds):
        order = list(servers.items())
        if r % 4 in (1, 2):
            order.reverse()
        for name, url in order:
            seed += 100
            one = stream_completion(url, a.model, prompt(seed), a.tokens)
            many = concurrent(url, a.model, [prompt(seed + 1 + k) for k in range(a.streams)], a.tokens)
            rows[name].append({"single_tps": one["tps"], "single_ttft_ms": one["ttft_ms"], "multi_aggregate_tps": many["aggregate_tps"],
                               "multi_per_stream_tps": many["per_stream_tps"]})
            print(f"round {r + 1} {name:12} " + "  ".join(f"{k} {v:.1f}" for k, v in rows[name][-1].items()), flush=True)
    print(f"\nratio = hearth / llama-server; median of the {a.rounds} paired (same-round) ratios [min-max]")
    for key in rows["hearth"][0]:
        ratios = [h[key] / l[key] for h, l in zip(rows["hearth"], rows["llama-server"]) if l[key] > 0]
        med = {n: statistics.median(x[key] for x in rows[n]) for n in rows}
        print(f"{key:22} hearth {med['hearth']:8.1f}  llama-server {med['llama-server']:8.1f}  paired ratio {statistics.median(ratios):.3f} [{min(ratios):.3f}-{max(ratios):.3f}]")
    # Greedy fidelity: the same prompt, the same text, on both servers.
    texts = {name: stream_completion(url, a.model, prompt(7), 64)["text"] for name, url in servers.items()}
    same = texts["hearth"] == texts["llama-server"]
    print(f"greedy text identical: {same}")
    if not same:
        for name, text in texts.items():
            print(f"  {name}: {text[:200]!r}")
    return 0 if same else 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # noqa: BLE001
        print(f"failed: {e}", file=sys.stderr)
        sys.exit(2)
