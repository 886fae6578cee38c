# Makefile -- builds tandemd, tandem, the unit tests; runs the server, the tests and the benchmarks.
#
#   make run     install missing Debian packages, build, start tandemd on etc/tandem.yaml
#   make test    install missing packages, build, check the modules call one way (scripts/layers.py),
#                run unit tests (plain and ASan+UBSan), replay the fuzz corpora, run the integration tests
#   make bench   benchmarks against NSD and Knot (bench/README.md)
#   make fuzz    build the libFuzzer targets (tests/fuzz/) and run each for FUZZ_SECONDS (default 60)
#   make fuzz-replay   build them and run every committed corpus input once (part of make test)
#   make fuzz-merge    keep what make fuzz found that reaches new code in tests/fuzz/found/ (to commit)

CC      ?= cc
PKGS    := libzscanner libknot liburcu libevent jansson yaml-0.1 sqlite3 libssl libcrypto
CFLAGS  ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -Isrc -pthread \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lurcu -pthread

BUILD   ?= build
LIB_SRC := $(filter-out src/tandemd/% src/tandem/%,$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/console_files.o
# The web console (www/, docs/console.md) is built into the library as a C table of its files.
CONSOLE_FILES := $(shell find www -type f 2>/dev/null | sort)
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)

PY      := /usr/bin/python3

.PHONY: all run test layers unit unit-asan integration integration-asan bench deps clean fuzz fuzz-replay console-deps \
        fuzz-build fuzz-bins fuzz-merge man install install-systemd deb

all: $(BUILD)/tandemd $(BUILD)/tandem

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/console_files.c: $(CONSOLE_FILES) $(shell find www -type d 2>/dev/null) scripts/embed.py
	@mkdir -p $(dir $@)
	$(PY) scripts/embed.py $@ www $(CONSOLE_FILES)

$(BUILD)/gen/console_files.o: $(BUILD)/gen/console_files.c
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libtandem.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tandemd: $(BUILD)/src/tandemd/main.o $(BUILD)/libtandem.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tandem: $(BUILD)/src/tandem/main.o $(BUILD)/libtandem.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# What the unit tests share (tests/unit/testlib/), linked into each of them.
UNIT_LIB := $(BUILD)/tests/unit/testlib/testlib.o
$(UNIT_LIB): tests/unit/testlib/testlib.c tests/unit/testlib/testlib.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/testlib/testlib.h $(UNIT_LIB) $(BUILD)/libtandem.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(UNIT_LIB) $(BUILD)/libtandem.a $(LDLIBS) -lcmocka

# The OpenAPI document is embedded in the server (.incbin in api/api_meta.c).
$(BUILD)/src/api/api_meta.o: docs/openapi.json

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/tandemd/main.d $(BUILD)/src/tandem/main.d

deps:
	@scripts/deps.sh build

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	$(BUILD)/tandemd -c etc/tandem.yaml

unit: $(UNIT_BIN)
	@scripts/run_unit.sh $(UNIT_BIN)

ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

unit-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" unit

# The integration suite runs in TEST_PROCS processes (pytest-xdist; a module's tests stay in one of them):
# its tests mostly wait on servers, so two processes take about half the time even on two CPUs. Ports are
# picked from a separate range in each (tests/integration/harness/ports.py). TEST_PROCS=0: one process.
TEST_PROCS ?= 2
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -n $(TEST_PROCS) --dist loadgroup

# The daemon and the CLI themselves under ASan+UBSan, through the whole integration suite.
integration-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="$(ASAN_CFLAGS)" build-asan/tandemd build-asan/tandem
	TANDEM_BUILD=$(CURDIR)/build-asan $(PYTEST) tests/integration

# The modules call one another one way (ARCHITECTURE.md): no circle between folders, read from the objects.
layers: all
	@$(PY) scripts/layers.py $(BUILD)

integration: all
	$(PYTEST) tests/integration

# The builds inside `make test` use every CPU (the suite's time is mostly builds and the integration runs).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory console-deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@$(MAKE) --no-print-directory layers
	@$(MAKE) --no-print-directory -j$(JOBS) unit
	@$(MAKE) --no-print-directory -j$(JOBS) unit-asan
	@$(MAKE) --no-print-directory -j$(JOBS) fuzz-replay
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory integration-asan

# The console's browser tests (tests/console): playwright-core from npm, the browser from Debian (chromium);
# nothing downloads a browser of its own.
console-deps:
	@[ -d tests/console/node_modules/playwright-core ] || (cd tests/console && npm ci --no-audit --no-fund)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	$(PY) bench/run.py

# Fuzzing (docs/testing.md "Fuzzing"): the library built again with clang, coverage for libFuzzer, ASan
# and UBSan into build-fuzz/; one binary per tests/fuzz/fuzz_<target>.c. Two targets replace functions
# at link time: fuzz_xfr the sockets of xfr/net.c, fuzz_api the API's listener (a Unix socket instead).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= query zonefile catalog xfr tsig conf api update
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
FUZZ_WRAP_xfr := $(foreach f,connect send recv connect_until send_until recv_until,-Wl,--wrap=xfrnet_$(f))
FUZZ_WRAP_api := -Wl,--wrap=evconnlistener_new_bind

fuzz-build:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" fuzz-bins

fuzz-bins: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.c tests/fuzz/fuzz_util.h build-fuzz/libtandem.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -DFUZZ_ROOT='"$(CURDIR)"' -o $@ $< tests/fuzz/fuzz_util.c \
		build-fuzz/libtandem.a $(FUZZ_WRAP_$*) $(LDLIBS)

fuzz:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Installing (docs/install.md): binaries, man pages, a default configuration that an existing one is
# never replaced by, the data folder. PREFIX and DESTDIR as usual.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
STATEDIR   ?= /var/lib

man:
	$(PY) scripts/man.py

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(SYSCONFDIR)/tandem $(DESTDIR)$(STATEDIR)/tandem
	install -m 0755 $(BUILD)/tandemd $(DESTDIR)$(PREFIX)/sbin/tandemd
	install -m 0755 $(BUILD)/tandem $(DESTDIR)$(PREFIX)/bin/tandem
	install -m 0644 man/tandem.1 $(DESTDIR)$(PREFIX)/share/man/man1/tandem.1
	install -m 0644 man/tandem.yaml.5 $(DESTDIR)$(PREFIX)/share/man/man5/tandem.yaml.5
	install -m 0644 man/tandemd.8 $(DESTDIR)$(PREFIX)/share/man/man8/tandemd.8
	[ -e $(DESTDIR)$(SYSCONFDIR)/tandem/tandem.yaml ] || \
		install -m 0644 dist/tandem.yaml $(DESTDIR)$(SYSCONFDIR)/tandem/tandem.yaml

# The systemd unit (Type=notify, sandboxed, port 53 with CAP_NET_BIND_SERVICE only); it runs as the user
# `tandem`, which a package creates (docs/install.md).
SYSTEMDUNITDIR ?= /lib/systemd/system
install-systemd:
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's#/usr/sbin/tandemd#$(PREFIX)/sbin/tandemd#g' -e 's#/etc/tandem#$(SYSCONFDIR)/tandem#g' \
		-e 's#/var/lib/tandem#$(STATEDIR)/tandem#g' dist/tandem.service > $(DESTDIR)$(SYSTEMDUNITDIR)/tandem.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/tandem.service

# A Debian package of this build (docs/install.md): dpkg-deb on the tree install and install-systemd lay
# out, maintainer scripts from dist/deb/ (the tandem user, /var/lib/tandem, the unit enabled).
deb: all
	@scripts/deb.sh $(BUILD) $(BUILD)/deb

fuzz-replay: fuzz-build
	@tests/fuzz/run.sh replay $(FUZZ_TARGETS)

# After make fuzz: the inputs it found that reach new code, kept in tests/fuzz/found/ to commit.
fuzz-merge: fuzz-build
	@tests/fuzz/run.sh merge $(FUZZ_TARGETS)

clean:
	rm -rf build build-asan
