# RetroVue Playout: the README's two commands.
#   make run   install what is missing, build, start the demo channel
#   make test  install what is missing, build plain and with ASan+UBSan, run every test
#   make test-cleanroot  build the .deb packages and install them into a clean
#              Debian 12 root made with mmdebstrap (root only; minutes)
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CONFIG     ?= conf/demo.conf

.PHONY: all deps build build-asan run test test-plain test-asan test-cleanroot clean

all: build

deps:
	@tools/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DRV_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	@tools/make-demo-media $(BUILD)/demo-media
	$(BUILD)/bin/retrovue_playout --config $(CONFIG)

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(BUILD_ASAN) && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
		ctest --output-on-failure -j $(JOBS)

test: test-plain test-asan

test-cleanroot: build
	cd $(BUILD) && RV_PACKAGE_CLEANROOT=1 ctest --output-on-failure -R '^package\.(deb|cleanroot)$$'

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
