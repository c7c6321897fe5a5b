# The two commands of README.md: `make start` and `make test`. Both set up what they need first.
.PHONY: setup start test lint bench clean

# Node 24 from .tools/ when set-up had to provide it (scripts/setup.sh); else the machine's own.
export PATH := $(CURDIR)/.tools/node/bin:$(PATH)

setup:
	@scripts/setup.sh

start: setup
	node bin/e2b-bench.js serve $(if $(CONFIG),--config $(CONFIG))

# tsconfig.test.json type-checks the tests and vitest.config.ts too (tsconfig.json builds what ships).
lint:
	npx tsc -p tsconfig.test.json
	npx eslint .
	npx prettier --check .

test: setup lint
	npx vitest run

bench: setup
	npm run bench

clean:
	rm -rf dist
