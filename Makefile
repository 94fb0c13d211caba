# One virtual environment for everything; torch is pinned to the CPU build first so that
# nothing later pulls the multi-gigabyte CUDA wheels.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: venv demo test benchmark examples clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: venv
	MPLBACKEND=Agg $(PY) examples/plot_demo.py

test: venv
	$(PY) -m pytest -q

benchmark: venv
	$(PY) benchmarks/compare.py

examples: venv
	for script in examples/*.py; do MPLBACKEND=Agg $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
