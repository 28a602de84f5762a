# SafeCam: `make run` to try it, `make test` to check it. Both install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SAFECAM_DATA_DIR ?= $(CURDIR)/var
export SAFECAM_PORT ?= 8000
export SAFECAM_DEMO_CAMERAS ?= 24
MANAGE := $(BIN)/python manage.py

.PHONY: install run test system-packages assets messages static migrate seed clean lock help

help:
	@echo "make run     install, migrate, seed the Biržai demo and start everything (Ctrl-C stops it)"
	@echo "make test    install and run the whole test suite"
	@echo "make install only the set-up part (idempotent)"

install: system-packages $(VENV)/.installed assets messages static

system-packages:
	@bash scripts/system-packages.sh

# Python packages: the versions in constraints.txt are the ones the tests passed with.
$(VENV)/.installed: pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt '.[dev]'
	@touch $@

# Front-end packages from the npm registry, copied into static/vendor/ (served by SafeCam, no CDN).
assets: static/vendor/.installed
static/vendor/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	rm -rf static/vendor && mkdir -p static/vendor/bootstrap static/vendor/bootstrap-icons static/vendor/hls
	cp frontend/node_modules/bootstrap/dist/css/bootstrap.min.css* static/vendor/bootstrap/
	cp frontend/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js* static/vendor/bootstrap/
	cp -r frontend/node_modules/bootstrap-icons/font/bootstrap-icons.min.css frontend/node_modules/bootstrap-icons/font/fonts static/vendor/bootstrap-icons/
	cp frontend/node_modules/hls.js/dist/hls.min.js frontend/node_modules/hls.js/dist/hls.min.js.map static/vendor/hls/
	@touch $@

messages: $(VENV)/.installed
	@cd $(CURDIR) && $(MANAGE) compilemessages --ignore '.venv' --ignore 'frontend' -v0

# collectstatic hashes and compresses (brotli) every file: ~25 s, so only when a source changed.
STATIC_STAMP := $(SAFECAM_DATA_DIR)/static/.collected
static: $(STATIC_STAMP)
$(STATIC_STAMP): $(VENV)/.installed static/vendor/.installed $(shell find static/safecam -type f 2>/dev/null)
	$(MANAGE) collectstatic --noinput -v0
	@touch $@

migrate: $(VENV)/.installed
	$(MANAGE) migrate --noinput -v1
	$(MANAGE) createcachetable

seed: migrate
	$(MANAGE) seed_birzai --demo-users
	$(MANAGE) statistics_rollup

run: install seed
	@echo
	@echo "SafeCam is starting at http://127.0.0.1:$(SAFECAM_PORT)"
	@echo "Demo logins (password birzai-demo-2026 unless you changed it):"
	@echo "  spec-vabalninkas, spec-pabirze, … (one per eldership)  Eldership specialist: own eldership only"
	@echo "  public-order                                           Public order officer: every camera"
	@echo "  dpo                                                    Data protection officer: requests, audit trail"
	@echo "  coordinator                                            Project coordinator: statistics and reports"
	@echo "  admin                                                  Administrator: /admin/"
	@echo "Everyone but the coordinator sets up an authenticator app (any TOTP app; the key is also shown as text) at the first login."
	@echo "$(SAFECAM_DEMO_CAMERAS) simulated cameras stream on rtsp://127.0.0.1:8554/cam0 …; the recorder records them into $(SAFECAM_DATA_DIR)/storage."
	@echo "Ctrl-C stops everything."
	@echo
	$(BIN)/honcho --procfile Procfile.dev start

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# Refresh constraints.txt after changing pyproject.toml (then run the tests before committing).
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v -e '^-e' -e '^safecam' > constraints.txt

clean:
	rm -rf $(VENV) static/vendor frontend/node_modules
