# qoeprobe: two commands, each complete on a fresh Debian 12 machine as root.
#   make demo   installs what is missing, builds release, runs `qoeprobe demo`
#   make test   installs what is missing, builds, checks format/lints/docs, runs every test
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)
CARGO ?= cargo

.PHONY: demo test deps build release lint bench fuzz clean

deps:
	@scripts/install-deps.sh
	@scripts/make-clip.sh
	@if [[ -x scripts/install-test-tools.sh ]]; then scripts/install-test-tools.sh; fi

release: deps
	$(CARGO) build --release --locked

demo: release
	./target/release/qoeprobe demo

build: deps
	$(CARGO) build --locked --workspace --all-targets

test: build lint
	$(CARGO) test --locked --workspace --no-fail-fast

lint: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --locked --workspace --no-deps

# The property harnesses (tests/fuzz_*.rs of probes, campaign, analysis) with many
# more cases than `make test` runs (PROPTEST_CASES, default 256 there), optimized but
# with overflow checks. `make fuzz FUZZ_CASES=N` to change the count.
FUZZ_CASES ?= 100000
fuzz: deps
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --locked --profile fuzz -p probes -p campaign -p analysis --test 'fuzz_*'

bench: release
	scripts/bench.sh

clean:
	$(CARGO) clean
