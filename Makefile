# Set-up and everyday commands. `make demo` and `make test` install first, so a fresh clone needs only those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP := $(VENV)/.installed

.PHONY: install demo test lint benchmarks clean

install: $(STAMP)

# Re-installs only when a pyproject.toml changed; editable installs pick up code changes by themselves.
$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

demo: install
	$(BIN)/nimabench datasets info synthetic-tid

# The core's tests, then each plugin's in a pytest process of its own: TensorFlow and PyTorch never share one.
test: install lint
	$(BIN)/pytest
	@set -e; for tests in $(wildcard plugins/*/tests); do echo "== $$tests"; $(BIN)/pytest $$tests; done

lint: install
	$(BIN)/ruff check .

benchmarks: install
	$(BIN)/python benchmarks/image_cache.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
