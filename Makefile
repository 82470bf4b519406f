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
ifeq ($(SAN),1)
O := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE \
	-Iinclude -Iuserspace -I$(O) -DWC_VERSION=\"$(VERSION)\"
LIB_CFLAGS := $(ALL_CFLAGS) -fPIC -fvisibility=hidden
LDLIBS_LIB := -lxdp -lbpf -lelf -lz -lpcap -lpthread
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -Iinclude \
	-I/usr/include/$(MULTIARCH)

LIB_SRCS := $(wildcard userspace/*.c)
LIB_OBJS := $(patsubst userspace/%.c,$(O)/lib/%.o,$(LIB_SRCS))
CMD_SRCS := $(wildcard cmd/*.c)
CMD_OBJS := $(patsubst cmd/%.c,$(O)/cmd/%.o,$(CMD_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(patsubst tests/tools/%.c,$(O)/tests/%,$(TOOL_SRCS))
HDRS := $(wildcard include/wirecap/*.h userspace/*.h cmd/*.h)

SONAME := libwirecap-xdp.so.$(VERSION_MAJOR)
SHLIB := $(O)/libwirecap-xdp.so.$(VERSION)
STLIB := $(O)/libwirecap-xdp.a
CLI := $(O)/wirecap
UNIT := $(O)/tests/unit_tests
FENCE := $(O)/tests/fence_test
SKEL := $(O)/wirecap.skel.h
BPF_OBJ := $(O)/wirecap.bpf.o

.PHONY: all deps lib cli test test-unit test-integ test-san bench demo format format-check \
	install uninstall clean vmtest vmtest-ci

all: $(SHLIB) $(STLIB) $(CLI) $(UNIT) $(FENCE) $(TOOLS) $(O)/wirecap-xdp.pc

deps:
	@./tests/deps.sh

$(O)/lib $(O)/cmd $(O)/tests:
	@mkdir -p $@

$(BPF_OBJ): bpf/wirecap.bpf.c include/wirecap/wc_layout.h | $(O)/lib
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name wirecap_bpf > $@.tmp && mv $@.tmp $@

$(O)/lib/%.o: userspace/%.c $(HDRS) $(SKEL) | $(O)/lib
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(SHLIB): $(LIB_OBJS) userspace/libwirecap-xdp.map
	$(CC) $(SANFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=userspace/libwirecap-xdp.map \
		-o $@ $(LIB_OBJS) $(LDLIBS_LIB)
	ln -sf libwirecap-xdp.so.$(VERSION) $(O)/$(SONAME)
	ln -sf $(SONAME) $(O)/libwirecap-xdp.so

$(STLIB): $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(O)/cmd/%.o: cmd/%.c $(HDRS) | $(O)/cmd
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The CLI links the static archive: it also uses library-internal helpers
# (pcapng writer, sequence checker) that the shared object does not export.
$(CLI): $(CMD_OBJS) $(STLIB)
	$(CC) $(SANFLAGS) -o $@ $(CMD_OBJS) $(STLIB) $(LDLIBS_LIB) -lm

$(UNIT): $(UNIT_SRCS) $(STLIB) $(HDRS) | $(O)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $(UNIT_SRCS) $(STLIB) $(LDLIBS_LIB) \
		$$(pkg-config --cflags --libs check) -lm

# The fence tests #include engine.c and monitor.c (their static functions
# on fake rings): their own binary, not linked with the library.
$(FENCE): tests/fence/fence_test.c $(LIB_SRCS) $(HDRS) | $(O)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< -lxdp -lbpf -lpthread \
		$$(pkg-config --cflags --libs check)

$(O)/tests/%: tests/tools/%.c $(STLIB) $(HDRS) | $(O)/tests
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STLIB) $(LDLIBS_LIB) -lm

$(O)/wirecap-xdp.pc: wirecap-xdp.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# Unit tests (Check) then integration tests; tests/run.sh prints
# "N passed, N failed" and exits non-zero on any failure.
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
# docs/bench/*.png); make bench QUICK=1: a subset in under 5 minutes
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
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    wirecap-xdp.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/wirecap-xdp.pc
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/
	if [ -f docs/libwirecap-xdp.3 ]; then install -m 0644 docs/libwirecap-xdp.3 $(DESTDIR)$(MANDIR)/man3/; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libwirecap-xdp.* $(DESTDIR)$(BINDIR)/wirecap \
		$(DESTDIR)$(PKGCONFIGDIR)/wirecap-xdp.pc \
		$(DESTDIR)$(MANDIR)/man3/libwirecap-xdp.3
	rm -rf $(DESTDIR)$(INCDIR)/wirecap

FORMAT_SRCS = $(LIB_SRCS) $(CMD_SRCS) $(UNIT_SRCS) $(TOOL_SRCS) bpf/*.c \
	include/wirecap/*.h userspace/*.h cmd/*.h tests/fence/*.c \
	docs/examples/*.c vmtest/tests/*.c

# kernel style, .clang-format (Debian: clang-format)
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build build-san
