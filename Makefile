# wirecap: lossless zero-copy packet capture on XDP / AF_XDP
# `make` builds the BPF object, its skeleton, libwirecap-xdp (shared and
# static), the wirecap CLI and the test binaries. See README.md.

VERSION_MAJOR := 0
VERSION_MINOR := 1
VERSION_PATCH := 0
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
O := build

# SAN=1 builds everything with AddressSanitizer and UBSan into build-san/
# (and `make O=build-san install` links the installed CLI with them too)
ifeq ($(SAN),1)
O := build-san
endif
ifeq ($(notdir $(abspath $(O))),build-san)
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE \
	-DWC_VERSION=\"$(VERSION)\"
# the library sees include/ and its own userspace/, never util/
LIB_CFLAGS := $(BASE_CFLAGS) -Iinclude -Iuserspace -I$(O) -fPIC -fvisibility=hidden
# util/, the CLI and the tests also see util/ (userspace/ only for the two
# library files util compiles in as well, netdev.h and filter.h)
ALL_CFLAGS := $(BASE_CFLAGS) -Iinclude -Iutil -Iuserspace -I$(O)
UTIL_CFLAGS := $(ALL_CFLAGS) -fPIC -fvisibility=hidden
LDLIBS_LIB := -lxdp -lbpf -lelf -lz -lpcap -lpthread
# json-c: the CLI's JSON output only (not a dependency of the library)
JSONC_CFLAGS := $(shell pkg-config --cflags json-c)
JSONC_LIBS := $(shell pkg-config --libs json-c)
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Iinclude \
	-I/usr/include/$(MULTIARCH)

LIB_SRCS := $(wildcard userspace/*.c)
LIB_OBJS := $(patsubst userspace/%.c,$(O)/lib/%.o,$(LIB_SRCS))
# util/: helpers only the CLI and the tests need, in an internal static
# archive; plus its own copy of two self-contained library files the CLI
# needs too (device facts; libpcap compiling and running classic filters),
# hidden in the .so and so not reachable from it (docs/architecture.md)
UTIL_SRCS := $(wildcard util/*.c)
UTIL_FROM_LIB := netdev filter_pcap
UTIL_OBJS := $(patsubst util/%.c,$(O)/util/%.o,$(UTIL_SRCS)) \
	$(patsubst %,$(O)/util/%.o,$(UTIL_FROM_LIB))
CMD_SRCS := $(wildcard cmd/*.c)
CMD_OBJS := $(patsubst cmd/%.c,$(O)/cmd/%.o,$(CMD_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(patsubst tests/tools/%.c,$(O)/tests/%,$(TOOL_SRCS))
# the benchmark baselines' shared options and loop helpers (tests/tools/common)
TOOLCOM_SRCS := $(wildcard tests/tools/common/*.c)
TOOLCOM_OBJS := $(patsubst tests/tools/common/%.c,$(O)/tools/%.o,$(TOOLCOM_SRCS))
TOOLCOMLIB := $(O)/tools/libtoolcommon.a
PCAP_SRCS := $(wildcard pcap/*.c)
PCAP_OBJS := $(patsubst pcap/%.c,$(O)/pcap/%.o,$(PCAP_SRCS))
HDRS := $(wildcard include/wirecap/*.h userspace/*.h util/*.h cmd/*.h)

SONAME := libwirecap-xdp.so.$(VERSION_MAJOR)
SHLIB := $(O)/libwirecap-xdp.so.$(VERSION)
STLIB := $(O)/libwirecap-xdp.a
UTILLIB := $(O)/libwcutil.a
CLI := $(O)/wirecap
UNIT := $(O)/tests/unit_tests
FENCE := $(O)/tests/fence_test
PCAPLIB := $(O)/libwirecap-pcap.so
SKEL := $(O)/wirecap.skel.h
BPF_OBJ := $(O)/wirecap.bpf.o
TEST_SKEL := $(O)/wirecap_test.skel.h
TEST_BPF_OBJ := $(O)/wirecap-test.bpf.o

.PHONY: all deps lib cli test test-unit test-integ test-san bench demo format format-check \
	install uninstall clean vmtest vmtest-ci

all: $(SHLIB) $(STLIB) $(UTILLIB) $(CLI) $(PCAPLIB) $(UNIT) $(FENCE) $(TOOLS) $(O)/wirecap-xdp.pc

deps:
	@./tests/deps.sh

$(O)/lib $(O)/util $(O)/cmd $(O)/tests $(O)/pcap $(O)/tools:
	@mkdir -p $@

$(BPF_OBJ): bpf/wirecap.bpf.c include/wirecap/wc_layout.h | $(O)/lib
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name wirecap_bpf > $@.tmp && mv $@.tmp $@

# The parser unit tests' build of the program: the metadata is prepended to
# every packet and kept (no socket exists under BPF_PROG_TEST_RUN)
$(TEST_BPF_OBJ): bpf/wirecap.bpf.c include/wirecap/wc_layout.h | $(O)/lib
	$(CLANG) $(BPF_CFLAGS) -DWC_TEST_META=1 -c $< -o $@

$(TEST_SKEL): $(TEST_BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name wirecap_test_bpf > $@.tmp && mv $@.tmp $@

$(O)/lib/%.o: userspace/%.c $(HDRS) $(SKEL) | $(O)/lib
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(SHLIB): $(LIB_OBJS) userspace/libwirecap-xdp.map
	$(CC) $(SANFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=userspace/libwirecap-xdp.map \
		-o $@ $(LIB_OBJS) $(LDLIBS_LIB)
	ln -sf libwirecap-xdp.so.$(VERSION) $(O)/$(SONAME)
	ln -sf $(SONAME) $(O)/libwirecap-xdp.so

# The libpcap front (LD_PRELOAD, `wirecap exec`): only the public API of
# the shared library (plus util's engine option list, engine_table.c,
# which it shares with the CLI), which it finds next to itself ($ORIGIN)
$(O)/pcap/%.o: pcap/%.c pcap/wcpcap.h include/wirecap/*.h util/engine_table.h | $(O)/pcap
	$(CC) $(LIB_CFLAGS) -Iutil -Ipcap -c $< -o $@

$(PCAPLIB): $(PCAP_OBJS) $(UTILLIB) $(SHLIB)
	$(CC) $(SANFLAGS) -shared -o $@ $(PCAP_OBJS) $(UTILLIB) -L$(O) \
		-lwirecap-xdp -lpcap -lxdp -lbpf -lpthread -ldl \
		-Wl,-rpath,'$$ORIGIN'

$(STLIB): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(O)/util/%.o: util/%.c $(HDRS) | $(O)/util
	$(CC) $(UTIL_CFLAGS) -c $< -o $@

$(O)/util/%.o: userspace/%.c $(HDRS) | $(O)/util
	$(CC) $(UTIL_CFLAGS) -c $< -o $@

$(UTILLIB): $(UTIL_OBJS)
	rm -f $@ && ar rcs $@ $^

$(O)/cmd/%.o: cmd/%.c $(HDRS) | $(O)/cmd
	$(CC) $(ALL_CFLAGS) $(JSONC_CFLAGS) -DWC_LIBDIR=\"$(LIBDIR)\" -c $< -o $@

# The CLI: the shared library's public API, util's archive, and the
# libraries it calls itself (libpcap files, AF_XDP sockets in gen, json-c).
# In the tree it finds the .so next to itself; `make install` links it
# again to find the installed one relative to itself ($ORIGIN/../lib).
CLI_LIBS := $(UTILLIB) -L$(O) -lwirecap-xdp -lxdp -lbpf -lpcap -lpthread \
	$(JSONC_LIBS) -lm
BIN_TO_LIB = $(shell realpath -m --relative-to=$(BINDIR) $(LIBDIR))

$(CLI): $(CMD_OBJS) $(UTILLIB) $(SHLIB)
	$(CC) $(SANFLAGS) -o $@ $(CMD_OBJS) $(CLI_LIBS) -Wl,-rpath,'$$ORIGIN'

# Tests reach internals: the static archive and util's
$(UNIT): $(UNIT_SRCS) $(wildcard tests/unit/*.h) $(STLIB) $(UTILLIB) $(HDRS) $(TEST_SKEL) | $(O)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $(UNIT_SRCS) $(STLIB) $(UTILLIB) $(LDLIBS_LIB) \
		$$(pkg-config --cflags --libs check) -lm

# The fence tests link fence.c with the gather (rx.c) and the pools
# (pool.c) against fake rings and their own stubs of the interface
# functions; ld --wrap lets them interleave at a lock's unlock and run
# sleeps on a virtual clock.
FENCE_OBJS := $(addprefix $(O)/lib/,fence.o rx.o pool.o counters.o xsk.o xskdiag.o admit.o xdpsync.o)
FENCE_WRAP := -Wl,--wrap=pthread_mutex_unlock,--wrap=nanosleep,--wrap=clock_gettime
$(FENCE): tests/fence/fence_test.c $(FENCE_OBJS) $(HDRS) | $(O)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(FENCE_OBJS) $(FENCE_WRAP) \
		-lxdp -lbpf -lpthread $$(pkg-config --cflags --libs check)

$(O)/tools/%.o: tests/tools/common/%.c tests/tools/common/*.h $(HDRS) | $(O)/tools
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(TOOLCOMLIB): $(TOOLCOM_OBJS)
	rm -f $@ && ar rcs $@ $^

$(O)/tests/%: tests/tools/%.c $(TOOLCOMLIB) $(STLIB) $(UTILLIB) $(HDRS) tests/tools/common/*.h | $(O)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(TOOLCOMLIB) $(STLIB) $(UTILLIB) $(LDLIBS_LIB) -lm

# Relocatable: libdir and includedir are written relative to ${prefix}
# when they lie under PREFIX, so `pkg-config --define-variable=prefix=...`
# and a moved tree work. libpcap is listed in Libs.private rather than
# Requires.private: its own .pc requires dbus-1, which a static link of
# wirecap does not need (libpcap itself may stay a shared library).
PC_SUBST = sed -e 's|@PREFIX@|$(PREFIX)|' \
	-e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
	-e 's|@INCDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCDIR))|' \
	-e 's|@VERSION@|$(VERSION)|'

$(O)/wirecap-xdp.pc: wirecap-xdp.pc.in Makefile
	$(PC_SUBST) $< > $@

# Unit tests (Check) then integration tests; tests/run.sh ends with
# "N passed, N failed, N skipped" and exits non-zero on any failure.
test: all
	WC_BUILD=$(O) ./tests/run.sh

test-unit: $(UNIT) $(FENCE)
	$(UNIT) && $(FENCE)

test-integ: all
	WC_BUILD=$(O) ./tests/run.sh --integ-only

# The same suites under AddressSanitizer / UBSan
test-san:
	$(MAKE) SAN=1 all
	WC_BUILD=build-san ./tests/run.sh --san

# make bench: the experiments and the generated report (docs/benchmarks.md,
# docs/bench/*.png, raw results in docs/bench/raw: the committed report is a
# full run's). make bench QUICK=1: a smoke subset (1 run per point, fewer
# points) in under 5 minutes, the same report and plots, written to
# $(O)/bench-quick/ (benchmarks.md, bench/*.png, bench/raw) so that a quick
# run never replaces the committed full report; BENCH_DOCS=docs
# BENCH_RAW=docs/bench/raw send it to docs/ instead. The report again from
# raw results, without running anything: python3 tests/bench/report.py
# [--raw DIR --out DIR].
bench: all
	WC_BUILD=$(O) BENCH_QUICK=$(if $(filter 1,$(QUICK)),1,$${BENCH_QUICK:-0}) ./tests/bench/run.sh

demo: all
	WC_BUILD=$(O) ./tests/demo.sh

vmtest: all
	WC_BUILD=$(O) ./vmtest/run.sh

# The CI subset of vmtest (about 6 minutes on this 2-CPU TCG host): capture
# on veth (test_capture in native XDP mode: lossless, bursts, filter,
# rotation, SIGINT, disk full, errors) and on virtio-net (test_virtio), on
# Debian's 6.1 kernel. See docs/vmtest.md.
vmtest-ci: all
	WC_BUILD=$(O) WCT_XDP_MODES=native ./vmtest/run.sh --timeout 1500 -- \
		vmtest/suite.sh capture virtio

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)/wirecap \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(MANDIR)/man3
	install -m 0644 include/wirecap/*.h $(DESTDIR)$(INCDIR)/wirecap/
	install -m 0755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libwirecap-xdp.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libwirecap-xdp.so
	install -m 0644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	$(PC_SUBST) wirecap-xdp.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/wirecap-xdp.pc
	$(CC) $(SANFLAGS) -o $(DESTDIR)$(BINDIR)/wirecap $(CMD_OBJS) $(CLI_LIBS) \
		-Wl,-rpath,'$$ORIGIN/$(BIN_TO_LIB)'
	install -m 0755 $(PCAPLIB) $(DESTDIR)$(LIBDIR)/
	if [ -f docs/libwirecap-xdp.3 ]; then install -m 0644 docs/libwirecap-xdp.3 $(DESTDIR)$(MANDIR)/man3/; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libwirecap-xdp.* $(DESTDIR)$(BINDIR)/wirecap \
		$(DESTDIR)$(LIBDIR)/libwirecap-pcap.so \
		$(DESTDIR)$(PKGCONFIGDIR)/wirecap-xdp.pc \
		$(DESTDIR)$(MANDIR)/man3/libwirecap-xdp.3
	rm -rf $(DESTDIR)$(INCDIR)/wirecap

FORMAT_SRCS = $(LIB_SRCS) $(UTIL_SRCS) $(CMD_SRCS) $(PCAP_SRCS) pcap/*.h $(UNIT_SRCS) $(TOOL_SRCS) tests/tools/common/*.[ch] bpf/*.c \
	include/wirecap/*.h userspace/*.h util/*.h cmd/*.h tests/unit/*.h tests/fence/*.c \
	docs/examples/*.c vmtest/tests/*.c

# kernel style, .clang-format (Debian: clang-format)
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build build-san
