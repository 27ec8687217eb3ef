# The two commands: `make run` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PORT ?= 8001
# The demo site's settings; point NEWSLETTER_CONFIG at your own newsletter.toml to run yours.
export NEWSLETTER_CONFIG ?= examples/newsletter.toml

.PHONY: run test lint install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres,workers]'
	@touch $(STAMP)

install: $(STAMP)

# The demo site (examples/serve.py) stays up while the service runs, so that the scheduler's
# collect every 15 minutes finds it; it stops with `make run`. The demo editor signs in at
# http://127.0.0.1:8000/admin with the address and password printed before serving.
DEMO_EDITOR ?= editor@demo.example.org
DEMO_PASSWORD ?= demo-editor-password
run: $(STAMP)
	$(BIN)/newsletter init
	@$(BIN)/python examples/serve.py --port $(DEMO_PORT) & demo=$$!; trap 'kill $$demo' EXIT; \
	  set -e; \
	  $(BIN)/python examples/serve.py --port $(DEMO_PORT) --wait; \
	  $(BIN)/newsletter collect; \
	  $(BIN)/newsletter feeds build; \
	  $(BIN)/newsletter subscribers import examples/subscribers.csv --confirmed; \
	  echo '$(DEMO_PASSWORD)' | $(BIN)/newsletter editors add $(DEMO_EDITOR) --role publisher --password-stdin; \
	  $(BIN)/newsletter digest build || echo "(this week's issue is kept as it is)"; \
	  echo "demo editor: $(DEMO_EDITOR)  password: $(DEMO_PASSWORD)  at http://$(HOST):$(PORT)/admin"; \
	  $(BIN)/newsletter serve --host $(HOST) --port $(PORT)

# The checks with Node tools (Can I Email's data, axe-core) need their packages; without npm
# those tests skip and say why.
NODE_TOOLS := tools/email-check/node_modules/.installed tools/a11y/node_modules/.installed
tools/%/node_modules/.installed: tools/%/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd tools/$* && npm ci --no-audit --no-fund --silent) && touch $@; \
	else echo "npm not found: the tests that need tools/$* will skip"; fi

test: $(STAMP) $(NODE_TOOLS)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
