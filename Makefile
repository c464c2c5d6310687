# The two commands: `make run` (local server, embedded AWS) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# checkov pins its own boto3 (and more), which conflict with ours: it gets a venv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
PORT   ?= 8000

.PHONY: run test lint format bench clean package wipe policies chromium screenshots

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $(CHECKOV_STAMP)

run: $(STAMP)
	TASKHUB_ADMIN_TOKEN=$${TASKHUB_ADMIN_TOKEN:-taskhub-local-admin} \
	  $(BIN)/chalice local --stage local --port $(PORT) --no-autoreload

# The console's browser tests (tests/console) drive Debian's Chromium: installed here with
# apt-get when it is missing and we are root (CI), else a clear error says how.
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests" >&2; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq >/dev/null && \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "the browser tests need Debian's chromium at /usr/bin/chromium:" \
	      "install it with 'sudo apt-get install chromium'" >&2; \
	    exit 1; \
	  fi; }

# Three workers on two cores: much of the suite waits on servers, pumps and browsers.
test: $(STAMP) $(CHECKOV_STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 3 --dist loadfile

# Delete the local server's data (TASKHUB_DATA_DIR, default .taskhub); refused while it runs.
wipe: $(STAMP)
	$(BIN)/python -m chalicelib.admin --stage local wipe-local

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

# PNGs of each console page, from a local server with demo data, into docs/console/.
screenshots: $(STAMP) chromium
	$(BIN)/python -m tests.console.screenshots docs/console

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache chalicelib/apidocs/dist

# Each Lambda function's least-privilege policy, built from chalicelib/core/policies.py.
policies: $(STAMP)
	for stage in dev prod; do $(BIN)/python -m chalicelib.core.template --stage $$stage --policies; done

# Deployment package for a stage: SAM template with every table, queue, the bucket, log groups
# and alarms merged in; cfn-lint and checkov (skips and their reasons: checkov-skips.yaml).
# The served API docs go into chalicelib/apidocs/dist first (chalice packages chalicelib/ only).
STAGE ?= dev
package: $(STAMP) $(CHECKOV_STAMP)
	mkdir -p build
	$(BIN)/python -m chalicelib.apidocs.bundle
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(BIN)/python -m chalicelib.core.template --stage $(STAGE) > build/resources-$(STAGE).json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(BIN)/chalice package --stage $(STAGE) --merge-template build/resources-$(STAGE).json build/package-$(STAGE)
	$(BIN)/cfn-lint build/package-$(STAGE)/sam.json
	$(BIN)/python -m chalicelib.core.template --checkov $(CHECKOV_VENV)/bin/checkov build/package-$(STAGE)/sam.json
