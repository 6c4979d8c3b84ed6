# The two commands a new user runs on a fresh clone:
#   make demo   set up, then scan the bundled examples on the embedded defaults (SQLite, in-process)
#   make test   set up, then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: demo test setup model bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	mkdir -p out
	$(BIN)/haris --db sqlite:///out/demo.db scan examples/ --out out/results.jsonl

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Retrain the shipped message model from the corpus (deterministic: same corpus, same bytes).
# It learns from train and dev; the test split is never read (data/corpus/messages/README.md).
model: $(STAMP)
	$(BIN)/haris train data/corpus/messages/train.jsonl data/corpus/messages/dev.jsonl --out src/haris/detect/models/

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf out .pytest_cache
