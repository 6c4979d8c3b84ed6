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
# the dev split in its parts, in order (dev.jsonl, dev.2.jsonl…: no file over 5 MB)
DEV_FILES = data/corpus/messages/dev.jsonl $(sort $(wildcard data/corpus/messages/dev.[0-9]*.jsonl))

model: $(STAMP)
	$(BIN)/haris train data/corpus/messages/train.jsonl $(DEV_FILES) --out src/haris/detect/models/

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf out .pytest_cache
