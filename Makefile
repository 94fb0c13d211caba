# One virtual environment for everything; torch is pinned to the CPU build first so that
# nothing later pulls the multi-gigabyte CUDA wheels.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: venv demo test benchmark examples docs clean

venv: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PIN)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: venv
	MPLBACKEND=Agg $(PY) examples/plot_demo.py demo_digits.png

test: venv
	$(PY) -m pytest -q

benchmark: venv
	$(PY) benchmarks/compare.py

examples: venv
	for script in examples/*.py; do MPLBACKEND=Agg $(PY) $$script || exit 1; done

# The site, with every example run by sphinx-gallery; warnings are errors.
# Open docs/_build/html/index.html afterwards.
docs: venv
	$(PY) -m pip install --quiet -e ".[docs]"
	MPLBACKEND=Agg $(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/_build docs/generated docs/auto_examples
