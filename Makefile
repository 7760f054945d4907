# RetroVue Playout: the README's two commands.
#   make run   install what is missing, build, start the demo channel
#   make test  install what is missing, build plain and with ASan+UBSan, run every test
#              (and each libFuzzer harness for a short seeded smoke run)
#   make fuzz  build the libFuzzer harnesses (clang) and run each for FUZZ_SECONDS
#   make test-cleanroot  build the .deb packages and install them into a clean
#              Debian 12 root made with mmdebstrap (root only; minutes)
BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 900
JOBS       ?= $(shell nproc)
# ctest's slots (docs/testing.md, "Test-time budget"): a slot is a third of a
# core; tests/budget.cmake gives each busy test the slots it uses. On a machine
# already loaded past its cores when make starts (a shared one), one slot per
# core, as before the budget: real-time tests need the CPU they air with.
# Decided once, as make starts (':='): read when ctest's recipe runs, the load
# average would be the build's own (two cores compiling), so every run would
# get one slot per core, and cmake's PROCESSORS, set for three, would then
# claim all of ctest's slots (package.deb ran alone for minutes).
ifeq ($(origin TEST_SLOTS_PER_CORE),undefined)
TEST_SLOTS_PER_CORE := $(shell awk -v n=$(JOBS) '{ print ($$1 > n) ? 1 : 3 }' /proc/loadavg)
endif
TEST_JOBS  ?= $(shell echo $$(( $(JOBS) * $(TEST_SLOTS_PER_CORE) )))
CMAKE_TEST_SLOTS = -DRV_TEST_SLOTS_PER_CORE=$(TEST_SLOTS_PER_CORE)
CONFIG     ?= conf/demo.conf

.PHONY: all deps build build-asan build-fuzz run test test-plain test-asan test-fuzz fuzz \
	test-cleanroot clean

all: build

deps:
	@tools/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_TEST_SLOTS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DRV_SANITIZE=ON $(CMAKE_TEST_SLOTS) >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# The harnesses (tests/fuzz) and the host code they reach, built by clang
# with libFuzzer, ASan and UBSan (docs/reliability.md).
build-fuzz: deps
	@cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE= \
		-DCMAKE_C_FLAGS="-O1" -DRV_FUZZ=ON $(CMAKE_TEST_SLOTS) >/dev/null
	@cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_harnesses

run: build
	@tools/make-demo-media $(BUILD)/demo-media
	$(BUILD)/bin/retrovue_playout --config $(CONFIG)

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

test-asan: build-asan
	cd $(BUILD_ASAN) && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		ctest --output-on-failure -j $(TEST_JOBS)

test-fuzz: build-fuzz
	cd $(BUILD_FUZZ) && ctest --output-on-failure -L fuzz -j $(JOBS)

fuzz: build-fuzz
	tools/fuzz-run --all $(FUZZ_SECONDS) $(CURDIR)/$(BUILD_FUZZ)

# make test: the plain build, then its tests while the ASan and fuzz trees
# build beside them at nice 19 (docs/testing.md, "Test-time budget"): most
# tests wait on the real clock, so the compilers take the CPU they leave and
# yield it as soon as a test's thread wakes. That build's output goes to
# $(BUILD)/trees.log, shown if it fails. Then the ASan tests and the fuzz
# smoke, as test-asan and test-fuzz (their builds are done by then).
export TEST_SLOTS_PER_CORE
test: build
	@echo "building $(BUILD_ASAN) and $(BUILD_FUZZ) at nice 19 beside the plain tests ($(BUILD)/trees.log)"
	@nice -n 19 $(MAKE) --no-print-directory build-asan build-fuzz >$(BUILD)/trees.log 2>&1 & trees=$$!; \
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS); plain=$$?; \
	wait $$trees; built=$$?; \
	if [ $$built -ne 0 ]; then cat trees.log; echo "make test: building $(BUILD_ASAN) or $(BUILD_FUZZ) failed" >&2; fi; \
	[ $$plain -eq 0 ] && [ $$built -eq 0 ]
	@$(MAKE) --no-print-directory test-asan test-fuzz

test-cleanroot: build
	cd $(BUILD) && RV_PACKAGE_CLEANROOT=1 ctest --output-on-failure -R '^package\.(deb|cleanroot)$$'

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
