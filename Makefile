# Two entry points for a fresh machine: `make run` and `make test` (see README.md).
# Both create .venv on first use and install everything the project needs into it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# torch comes first and pinned: a bare requirement can pull a multi-GB CUDA build where a CPU one
# would do. Set TORCH_INDEX_URL to choose another wheel index (e.g. a CPU-only or ROCm one).
TORCH_SPEC ?= torch==2.13.0

.PHONY: run test lint bench gui clean-venv

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || \
		$(PY) -m pip install --quiet "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/nodeflow run workflows/txt2img.json --out output

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

gui: $(STAMP)
	$(VENV)/bin/nodeflow gui

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
