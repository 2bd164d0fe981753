# lca: build, test, run.
#
# Layout rule: every top-level service folder holds one binary.  Its main()
# lives in main.c; every other .c file of the folder goes into a static
# library that the tests link against.  What the services share are four
# libraries, each a folder, each depending only on those after it:
#   proto/         libproto.a   the wire, broker, worker, client, CURVE, retriever ops
#   proto/ollama/  libollama.a  the HTTP client for Ollama (generator, embedder)
#   proto/code/    libcode.a    knowledge about source code (languages, identifiers, imports,
#                               module stems, sub-words, the cursor, references, the
#                               built-in embedding the embedder and the gateway share)
#   proto/base/    libbase.a    buffers, maps, log, clock, settings, signals, UTF-8, JSON
#                               checks, hashing, allow-list patterns
#
#   make            release build of every binary into build/bin/
#   make test       sanitizer build (ASan+UBSan) and the whole test suite; the
#                   stress test once more under ThreadSanitizer (SAN=thread)
#   make test-compose
#                   the README's `docker compose` commands for real (needs root:
#                   installs Docker and starts an engine when none runs)
#   make run        lca up, and seed REPO (default: this directory)
#   make bench      benchmarks (release build), printed as tables
#   make bench-prompt  keystroke replays: what the model re-reads per keystroke,
#                   for a client alone and through lca (tests/bench/prompt/)
#   make bench-streams  the share of completions that get context within the
#                   retrieval deadline at 1, 8 and 32 concurrent streams
#                   (tests/bench/streams.mjs; also part of make bench)
#   make eval       retrieval quality evaluation
#   make soak       32 clients on every route kind for a minute while collections
#                   churn, then a minute while workers are killed (kill -9) and
#                   restarted: no wrong answer, every error well-formed, gateway
#                   RSS growth under 10% (release build; tests/integration/stress_test)
#   make layout-check  the tree's house rules (tests/layout.mjs; part of make test)
#   make deps       install the Debian/npm packages the build and tests need
#   make fuzz       libFuzzer (clang, ASan+UBSan) on every parser of untrusted
#                   bytes, FUZZ_SECONDS (default 60) each; `make test` runs a
#                   short smoke of each (tests/fuzz/run)

SERVICES := gateway embedder retriever generator seeder
BUILD    ?= build
REPO     ?= $(CURDIR)

PKGS     := libzmq libczmq libh2o-evloop libcurl libcjson sqlite3 openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC       ?= cc
WARN     := -Wall -Wextra -Werror -Wno-missing-field-initializers
CPPFLAGS += -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -I. $(PKG_CFLAGS)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 $(WARN) -pthread -fno-strict-aliasing
LDLIBS   += $(PKG_LIBS) -lpthread -lm

ifeq ($(SAN),1)
BUILD    := build/san
CFLAGS   := -O1 -g -std=c11 $(WARN) -pthread -fno-omit-frame-pointer \
            -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
# ThreadSanitizer: the threads of one process (the gateway's loop and its
# ZeroMQ thread, the retriever's scan threads, the embedder's pool).  It
# cannot share a build with ASan, hence its own tree.
ifeq ($(SAN),thread)
BUILD    := build/tsan
CFLAGS   := -O1 -g -std=c11 $(WARN) -pthread -fno-omit-frame-pointer -fsanitize=thread
LDFLAGS  += -fsanitize=thread
endif

BIN      := $(BUILD)/bin
OBJ      := $(BUILD)/obj
LIB      := $(BUILD)/lib

# Sources per folder; main.c is the binary's entry point, the rest a library.
lib_srcs  = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
lib_objs  = $(patsubst %.c,$(OBJ)/%.o,$(call lib_srcs,$(1)))

# The shared libraries, in link order (each depends only on those after it).
SHARED_DIRS := proto proto/ollama proto/code proto/base
lib_of       = $(LIB)/lib$(notdir $(1)).a
SHARED_LIBS := $(foreach d,$(SHARED_DIRS),$(call lib_of,$(d)))
SVC_LIBS  := $(foreach s,$(SERVICES),$(LIB)/lib$(s).a) $(LIB)/libdeploy.a
ALL_LIBS  := $(SVC_LIBS) $(SHARED_LIBS)

BINARIES  := $(foreach s,$(SERVICES),$(BIN)/lca-$(s)) $(BIN)/lca

UNIT_SRCS  := $(wildcard tests/unit/*_test.c)
INTEG_SRCS := $(wildcard tests/integration/*_test.c)
TOOL_SRCS  := $(wildcard tests/tools/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)
TEST_BINS  := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS) $(INTEG_SRCS) $(TOOL_SRCS))
BENCH_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(BENCH_SRCS))

.PHONY: all test test-compose run bench bench-prompt bench-streams eval deps format lint clean \
        test-bins tsan-bins npm-deps fuzz fuzz-bins soak layout-check
.DEFAULT_GOAL := all
.SECONDARY:
all: $(BINARIES)

$(OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"; $(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

define lib_rules
$(call lib_of,$(1)): $(call lib_objs,$(1))
	@mkdir -p $$(dir $$@)
	@rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(SERVICES) deploy $(SHARED_DIRS),$(eval $(call lib_rules,$(d))))

# The status page (gateway/ui/: HTML, one script, one style sheet) is compiled
# into the gateway: embed.sh writes its bytes into a C file, which joins the
# gateway's library like its other objects (and the fuzz build's, below).
UI_FILES := $(sort $(wildcard gateway/ui/*.html gateway/ui/*.js gateway/ui/*.css))
UI_GEN   := build/gen/ui_assets.c
$(UI_GEN): $(UI_FILES) gateway/ui/embed.sh
	@mkdir -p $(dir $@)
	@echo "  GEN $@"; sh gateway/ui/embed.sh $@ $(UI_FILES)
$(call lib_of,gateway): $(OBJ)/$(UI_GEN:.c=.o)

$(BIN)/lca-%: $(OBJ)/%/main.o $(LIB)/lib%.a $(SHARED_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BIN)/lca: $(OBJ)/deploy/main.o $(LIB)/libdeploy.a $(SHARED_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# A test named after a folder (tests/unit/retriever_scan_test.c, proto_wire_test.c,
# ollama_client_test.c, code_imports_test.c, base_buf_test.c) links only that
# folder's library and the shared ones; any other test links them all.
test_prefix = $(firstword $(subst _, ,$(notdir $(1))))
test_libs = $(if $(filter $(SERVICES) deploy,$(call test_prefix,$(1))),\
              $(LIB)/lib$(call test_prefix,$(1)).a $(SHARED_LIBS),\
              $(if $(filter proto ollama code base,$(call test_prefix,$(1))),$(SHARED_LIBS),$(ALL_LIBS)))

.SECONDEXPANSION:
$(BUILD)/tests/%: $(OBJ)/tests/%.o $$(call test_libs,$$*)
	@mkdir -p $(dir $@)
	@echo "  LD  $@"; $(CC) $(CFLAGS) $(LDFLAGS) $< $(call test_libs,$*) $(LDLIBS) -o $@

test-bins: $(BINARIES) $(TEST_BINS)

# The programs `make test` runs again with every process of the stack under
# ThreadSanitizer (make SAN=thread tsan-bins; tests/tsan.supp).
TSAN_TESTS := $(BUILD)/tests/integration/stress_test
tsan-bins: $(BINARIES) $(TSAN_TESTS)

# The suite runs against the sanitizer build.
NPROC    := $(shell nproc 2>/dev/null || echo 2)

test: deps
	$(MAKE) -j$(NPROC) SAN=1 test-bins
	$(MAKE) -j$(NPROC) test-bins
	$(MAKE) -j$(NPROC) fuzz-bins
	$(MAKE) -j$(NPROC) SAN=thread tsan-bins
	LCA_BIN=$(CURDIR)/build/san/bin LCA_TESTS=$(CURDIR)/build/san/tests \
	  LCA_RELEASE_BIN=$(CURDIR)/build/bin LCA_TSAN_BIN=$(CURDIR)/build/tsan/bin \
	  LCA_TSAN_TESTS=$(CURDIR)/build/tsan/tests tests/run

test-compose: deps
	tests/compose/run

run: deps
	$(MAKE) -j$(NPROC) all
	LCA_SEED=$(REPO) $(BIN)/lca up

bench:
	@deploy/deps.sh bench
	$(MAKE) -j$(NPROC) all $(BENCH_BINS)
	LCA_BIN=$(CURDIR)/$(BIN) LCA_TESTS=$(CURDIR)/$(BUILD)/tests tests/bench/run

soak: deps
	$(MAKE) -j$(NPROC) all $(BUILD)/tests/integration/stress_test
	LCA_BIN=$(CURDIR)/$(BIN) LCA_STRESS_CLIENTS=32 LCA_STRESS_MS=60000 LCA_STRESS_RSS=1 \
	  $(BUILD)/tests/integration/stress_test

eval: deps all
	LCA_BIN=$(CURDIR)/$(BIN) tests/eval/run

bench-prompt: deps
	$(MAKE) -j$(NPROC) all
	LCA_BIN=$(CURDIR)/$(BIN) node tests/bench/prompt/bench.mjs

bench-streams: deps
	$(MAKE) -j$(NPROC) all
	LCA_BIN=$(CURDIR)/$(BIN) node tests/bench/streams.mjs

deps:
	@deploy/deps.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE -I. \
	  $(SERVICES) proto deploy
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# The house rules of the tree (tests/layout.mjs): folders depend downwards,
# no loops of modules, a unit test per module, no name of a missing file.
# tests/run runs it with the suite.
layout-check:
	node tests/layout.mjs

clean:
	rm -rf build

# ---- Fuzzing: clang's libFuzzer with ASan+UBSan ----
# One target per parser of untrusted bytes: tests/fuzz/<name>_fuzz.c becomes
# build/fuzz/<name>_fuzz.  The product libraries are compiled again by clang,
# with coverage instrumentation, into build/fuzz/obj (never the gcc objects).
# `make fuzz` runs every target for FUZZ_SECONDS on its corpus kept in
# build/fuzz/corpus/<name> (seeded from tests/fuzz/corpus/<name>); crashes
# land in build/fuzz/artifacts/.  `make test` runs a few seconds of each.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZ_OBJ     := $(FUZZ_DIR)/obj
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -g -O1 -std=c11 $(WARN) -pthread -fno-strict-aliasing -fno-omit-frame-pointer
FUZZ_SVCS    := gateway generator embedder seeder
FUZZ_LIBS    := $(foreach s,$(FUZZ_SVCS) $(SHARED_DIRS),$(FUZZ_DIR)/lib/lib$(notdir $(s)).a)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/*_fuzz.c))

$(FUZZ_OBJ)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $< (fuzz)"; $(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) \
	  -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c $< -o $@

define fuzz_lib_rule
$(FUZZ_DIR)/lib/lib$(notdir $(1)).a: $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(call lib_srcs,$(1)))
	@mkdir -p $$(dir $$@)
	@rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach s,$(FUZZ_SVCS) $(SHARED_DIRS),$(eval $(call fuzz_lib_rule,$(s))))
$(FUZZ_DIR)/lib/libgateway.a: $(FUZZ_OBJ)/$(UI_GEN:.c=.o)

$(FUZZ_DIR)/%_fuzz: $(FUZZ_OBJ)/tests/fuzz/%_fuzz.o $(FUZZ_LIBS)
	@echo "  LD  $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) \
	  $< $(FUZZ_LIBS) $(PKG_LIBS) -lpthread -lm -o $@

fuzz-bins: $(FUZZ_BINS)

fuzz: fuzz-bins
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CORPUS=$(CURDIR)/$(FUZZ_DIR)/corpus \
	  FUZZ_ARTIFACTS=$(CURDIR)/$(FUZZ_DIR)/artifacts tests/fuzz/run

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_OBJ) -name '*.d' 2>/dev/null)
