# polyhost: thin wrapper around meson. `make run` and `make test` are the two
# commands; both install what is missing first (scripts/deps.sh).
BUILD ?= build
MESON_TEST_ARGS ?=

.PHONY: all deps build run test test-long bench lint format clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job: polyhostd with config/demo.ini on a net_tap port in a network
# namespace of its own, a Linux peer exercising it, a report, a clean shutdown.
run: build
	scripts/demo.sh $(BUILD)

# Every test (unit, EAL, integration with Linux peers), then one summary line.
test: build
	@meson test -C $(BUILD) --no-rebuild --print-errorlogs $(MESON_TEST_ARGS) \
		--no-suite long; status=$$?; \
	scripts/test-summary $(BUILD)/meson-logs/testlog.json; \
	exit $$status

# Long tiers too: the 1 GiB transfers (HTTP, ph-perf, TCP through 2% loss).
test-long: build
	@meson test -C $(BUILD) --no-rebuild --print-errorlogs $(MESON_TEST_ARGS); status=$$?; \
	scripts/test-summary $(BUILD)/meson-logs/testlog.json; \
	exit $$status

# polyhost against the Linux kernel, side by side: bench/results/table.md and
# PNG plots (about 10 minutes; BENCH_ARGS="--quick" for a 1-minute pass,
# "--cases rr,udp --repeat 7" to choose).
BENCH_ARGS ?=
bench: build
	bench/run --build $(BUILD) $(BENCH_ARGS)

lint: deps
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
