# Amber: top-level build.
#
#   make            amber-core, the launcher, the runtime and the components
#   make check      unit and integration tests, then again under ASan+UBSan
#   make fuzz       the hostile-component fuzzer for SECONDS (default 300)
#   make fuzz-image the checkpoint image fuzzer (libFuzzer) for SECONDS
#   make bench      benchmarks (IPC round trip against raw Linux)
#   make cr-crash   N random kills during checkpoints (default 1000)
#   make soak       CYCLES checkpoint/restore cycles of the demo (default 10000)
#   make demo       run the demo scenario
#
# Host code (kernel/, platform/, core/, tests/) is ordinary C17 with glibc.
# Component code (lib/base/, components/) is freestanding: no libc, static,
# linked into the fixed image area of docs/abi.md.

BUILD ?= build
SAN ?= 0

CC ?= cc
HOST_CFLAGS := -std=c17 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE -Iinclude -I. -pthread
HOST_LDLIBS := -lseccomp -lelf -lxml2 -lprotobuf-c -lxxhash -lsodium -pthread
ifeq ($(SAN),1)
  BUILD := build-san
  HOST_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
XML_CFLAGS := $(shell pkg-config --cflags libxml-2.0 2>/dev/null || echo -I/usr/include/libxml2)
HOST_CFLAGS += $(XML_CFLAGS)

# Components: the flags the SDK uses too (mk/component-flags.mk).
AMBER_INCLUDE := include
AMBER_LDSCRIPT := lib/base/component.ld
include mk/component-flags.mk
COMP_CFLAGS := $(AMBER_COMPONENT_CFLAGS)
COMP_LDFLAGS := $(AMBER_COMPONENT_LDFLAGS)

KERNEL_SRC := $(wildcard kernel/*.c)
# The checkpoint image: schema (protoc-c generates C into $(BUILD)/gen) and
# its reader/writer, shared by amber-core and the amber command.
IMAGE_PROTO := image/amber_image.proto
IMAGE_GEN_C := $(BUILD)/gen/image/amber_image.pb-c.c
IMAGE_GEN_H := $(BUILD)/gen/image/amber_image.pb-c.h
IMAGE_SRC := $(wildcard image/*.c)
CLI_SRC := $(wildcard cli/*.c)
PLATFORM_SRC := $(wildcard platform/linux/*.c)
CORE_SRC := $(wildcard core/*.c)
BASE_SRC := $(wildcard lib/base/*.c) $(wildcard lib/base/*.S)
COMPONENTS := $(notdir $(patsubst %/,%,$(dir $(wildcard components/*/*.c))))
COMPONENTS := $(sort $(COMPONENTS))

hobj = $(patsubst %,$(BUILD)/%.o,$(basename $(1)))
cobj = $(patsubst %,$(BUILD)/comp/%.o,$(basename $(1)))

KERNEL_OBJ := $(call hobj,$(KERNEL_SRC))
PLATFORM_OBJ := $(call hobj,$(PLATFORM_SRC))
CORE_OBJ := $(call hobj,$(CORE_SRC))
IMAGE_OBJ := $(call hobj,$(IMAGE_SRC)) $(BUILD)/gen/image/amber_image.pb-c.o
CORE_LIB_OBJ := $(filter-out $(BUILD)/core/main.o,$(CORE_OBJ)) $(IMAGE_OBJ)
CLI_OBJ := $(call hobj,$(CLI_SRC))
BASE_OBJ := $(call cobj,$(BASE_SRC))

AMBER_CORE := $(BUILD)/amber-core
AMBER_CLI := $(BUILD)/amber
CR_DIFF := $(BUILD)/cr-diff
LAUNCHER := $(BUILD)/amber-launch
BASE_LIB := $(BUILD)/lib/libamber_base.a
COMPONENT_BINS := $(patsubst %,$(BUILD)/components/%,$(COMPONENTS))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
INTEG_SRC := $(wildcard tests/integration/test_*.c)
# Both kinds build into $(BUILD)/tests/: one name must not be used twice.
ifneq ($(filter $(notdir $(UNIT_SRC)),$(notdir $(INTEG_SRC))),)
  $(error test names used in both tests/unit and tests/integration: $(filter $(notdir $(UNIT_SRC)),$(notdir $(INTEG_SRC))))
endif
INTEG_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(INTEG_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all check check-plain check-san unit integration bench demo clean deps
SDK := $(BUILD)/sdk
all: $(AMBER_CORE) $(AMBER_CLI) $(CR_DIFF) $(LAUNCHER) $(BASE_LIB) $(COMPONENT_BINS) $(UNIT_BINS) $(INTEG_BINS) $(BENCH_BINS) sdk

# ---- component SDK: what a component built outside the tree needs --------
.PHONY: sdk
# The components a scenario of one's own needs (init) and the examples
# docs/writing-components.md tells authors to copy, with a Makefile that
# builds them with the SDK alone (tests/integration/test_sdk.c does).
SDK_COMPONENTS := init
SDK_EXAMPLES := example_threads example_sessions hello_server hello_client
sdk: $(BASE_LIB) lib/base/component.ld mk/component.mk mk/component-flags.mk $(wildcard include/amber/*.h) \
		$(foreach c,$(SDK_COMPONENTS),$(BUILD)/components/$(c)) mk/examples.mk \
		$(foreach e,$(SDK_EXAMPLES),$(wildcard components/$(e)/*))
	@rm -rf $(SDK) && mkdir -p $(SDK)/include/amber $(SDK)/lib $(SDK)/components $(SDK)/examples
	cp include/amber/*.h $(SDK)/include/amber/
	cp $(BASE_LIB) lib/base/component.ld $(SDK)/lib/
	cp mk/component.mk mk/component-flags.mk $(SDK)/
	cp $(foreach c,$(SDK_COMPONENTS),$(BUILD)/components/$(c)) $(SDK)/components/
	for e in $(SDK_EXAMPLES); do cp components/$$e/main.c $(SDK)/examples/$$e.c; done
	cp mk/examples.mk $(SDK)/examples/Makefile
	cp scenarios/example_threads.xml scenarios/example_sessions.xml scenarios/hello.xml $(SDK)/examples/

# ---- host code ----------------------------------------------------------
HOST_CFLAGS += -I$(BUILD)/gen

$(IMAGE_GEN_C) $(IMAGE_GEN_H): $(IMAGE_PROTO)
	@mkdir -p $(BUILD)/gen
	protoc-c --c_out=$(BUILD)/gen $<

# Generated code: the project's warnings, not -Werror's extra demands on
# code we do not write.
$(BUILD)/gen/image/amber_image.pb-c.o: $(IMAGE_GEN_C)
	$(CC) $(filter-out -Werror -Wextra,$(HOST_CFLAGS)) -c $< -o $@

# Everything host-side may include the generated header.
$(KERNEL_OBJ) $(PLATFORM_OBJ) $(CORE_OBJ) $(call hobj,$(IMAGE_SRC)) $(CLI_OBJ): | $(IMAGE_GEN_H)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(AMBER_CORE): $(KERNEL_OBJ) $(PLATFORM_OBJ) $(CORE_OBJ) $(IMAGE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $^ -o $@ $(HOST_LDLIBS)

# Differential testing of checkpoint/restore (tools/cr_diff.c).
$(CR_DIFF): tools/cr_diff.c $(IMAGE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $^ -o $@ $(HOST_LDLIBS)

# The amber command: the control socket's client and the image reader.
$(AMBER_CLI): $(CLI_OBJ) $(IMAGE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $^ -o $@ $(HOST_LDLIBS)

# The launcher is the first program of every component process: freestanding,
# static, linked far from the component image area. Never sanitized.
$(LAUNCHER): platform/launcher/launcher.S platform/launcher/launcher.ld
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,platform/launcher/launcher.ld $< -o $@

# ---- component runtime and components -----------------------------------
$(BUILD)/comp/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(COMP_CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/comp/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(COMP_CFLAGS) -c $< -o $@

$(BASE_LIB): $(BASE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define component_rule
$(BUILD)/components/$(1): $(call cobj,$(wildcard components/$(1)/*.c)) $(BASE_LIB) lib/base/component.ld
	@mkdir -p $$(dir $$@)
	$(CC) $(COMP_CFLAGS) $(COMP_LDFLAGS) $(call cobj,$(wildcard components/$(1)/*.c)) $(BASE_LIB) -lgcc -o $$@
endef
$(foreach c,$(COMPONENTS),$(eval $(call component_rule,$(c))))

# ---- tests --------------------------------------------------------------
$(BUILD)/tests/test_%: tests/unit/test_%.c $(KERNEL_OBJ) $(PLATFORM_OBJ) $(CORE_LIB_OBJ) | $(IMAGE_GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $^ -o $@ $(HOST_LDLIBS) -lcmocka

$(BUILD)/tests/test_%: tests/integration/test_%.c tests/integration/harness.c tests/integration/harness.h $(IMAGE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(filter %.c %.o,$^) -o $@ $(HOST_LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $< -o $@ $(HOST_LDLIBS) -lm

# ---- platform test programs -----------------------------------------------
# Tiny freestanding programs (no libc, static, non-PIE, at AMBER_IMAGE_BASE)
# that tests/unit/test_process.c runs as real component processes. They are
# never sanitized. The test finds them, and the launcher, under $(BUILD)
# (AMBER_BUILD). Order-only, so they are not linked into the test.
TEST_PROGRAM_SRC := $(wildcard tests/programs/*.S)
TEST_PROGRAMS := $(patsubst tests/programs/%.S,$(BUILD)/tests/programs/%,$(TEST_PROGRAM_SRC))

$(BUILD)/tests/programs/%: tests/programs/%.S tests/programs/program.ld
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,tests/programs/program.ld $< -o $@

$(BUILD)/tests/test_process: | $(LAUNCHER) $(TEST_PROGRAMS)
all: $(TEST_PROGRAMS)

unit: all
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

integration: all
	@set -e; for t in $(INTEG_BINS); do echo "== $$t"; AMBER_BUILD=$(BUILD) $$t; done
	$(MAKE) --no-print-directory cr-diff N=$(CR_POINTS)

# Differential checkpoint/restore testing (tools/cr_diff.c): N random
# points over the workloads, each checkpointed at a random moment and
# left running, rolled back, stopped and restored, or booted afresh.
# `make check` runs CR_POINTS of them; `make cr-stress N=1000` more.
CR_POINTS ?= 100
# The points are spread over the workloads: more workloads, the same time.
CR_WORKLOADS := scenarios/cr_counter.xml cr_counter scenarios/cr_init.xml init \
	scenarios/example_threads.xml example_threads scenarios/example_sessions.xml example_sessions \
	scenarios/entrypoint.xml test_entrypoint scenarios/rpc_ep_churn.xml rpc_ep_churn \
	scenarios/cr_init.xml init/a scenarios/init_demo.xml init scenarios/cr_writer.xml cr_writer \
	scenarios/demo.xml init scenarios/tls.xml test_tls scenarios/managed_churn.xml test_managed_churn \
	scenarios/affinity.xml test_affinity
CR_STRESS_WORKLOADS := $(CR_WORKLOADS)
N ?= 1000
.PHONY: cr-diff cr-stress
cr-diff: all
	$(CR_DIFF) --build $(BUILD) --points $(N) $(CR_WORKLOADS)
cr-stress: all
	$(CR_DIFF) --build $(BUILD) --points $(N) $(CR_STRESS_WORKLOADS)

# Trust in checkpoints (docs/trust.md). `make cr-crash N=1000`: amber-core
# or the amber command killed at N random moments of a checkpoint that
# replaces an image (tests/integration/test_cr_crash.c; make check runs 16).
# `make soak CYCLES=10000`: checkpoint/restore cycles of the demo, failing
# if core's or a component's memory, fds, threads, kernel objects or
# capabilities grow (tests/integration/test_soak.c; make check runs 50).
CYCLES ?= 10000
.PHONY: cr-crash soak
cr-crash: all
	AMBER_BUILD=$(BUILD) AMBER_CRASH_POINTS=$(N) $(BUILD)/tests/test_cr_crash
soak: all
	AMBER_BUILD=$(BUILD) AMBER_SOAK_CYCLES=$(CYCLES) $(BUILD)/tests/test_soak

# The hostile-component fuzzer (components/hostile_fuzzer, tests/integration/
# test_fuzz.c): `make check` runs a few fixed seeds; `make fuzz SECONDS=3600`
# runs random seeds for that long (FUZZ_OPS operations each) and prints the
# seed of every failure; `make SAN=1 fuzz ...` under the sanitizers.
SECONDS ?= 300
FUZZ_OPS ?= 5000
.PHONY: fuzz
fuzz: all
	AMBER_BUILD=$(BUILD) AMBER_FUZZ_SECONDS=$(SECONDS) AMBER_FUZZ_OPS=$(FUZZ_OPS) $(BUILD)/tests/test_fuzz

# The image fuzzer (tests/fuzz/fuzz_image.c, docs/image-format.md "Fuzzing
# the reader"): libFuzzer over packed images, built by clang with ASan and
# UBSan from the image reader, core's image checks and the generated
# schema code. `make fuzz-image SECONDS=N` fuzzes for N seconds (one job),
# starting from the committed corpus (real images and every input that
# once found a bug) and keeping what it finds new in $(BUILD)/fuzz/corpus;
# `make check` runs every committed input once and then FUZZ_CHECK_SECONDS.
FUZZ_CC ?= clang
FUZZ_BIN := $(BUILD)/fuzz/fuzz_image
FUZZ_CORPUS := tests/fuzz/corpus/image
FUZZ_CHECK_SECONDS ?= 30
FUZZ_SRC := tests/fuzz/fuzz_image.c $(IMAGE_SRC) core/cr_validate.c core/rules.c $(IMAGE_GEN_C)
$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard image/*.h core/*.h include/amber/*.h) $(IMAGE_GEN_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c17 -g -O1 -D_GNU_SOURCE -Iinclude -I. -I$(BUILD)/gen $(XML_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -DIMG_CHUNK=4096 \
		$(FUZZ_SRC) -o $@ -lprotobuf-c -lxxhash -lsodium
.PHONY: fuzz-image fuzz-image-check
fuzz-image: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/artifacts
	$(FUZZ_BIN) -max_total_time=$(SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/artifacts/ $(BUILD)/fuzz/corpus $(FUZZ_CORPUS)
fuzz-image-check: $(FUZZ_BIN)
	$(FUZZ_BIN) -runs=0 $(FUZZ_CORPUS)
	$(MAKE) --no-print-directory fuzz-image SECONDS=$(FUZZ_CHECK_SECONDS)

check-plain: unit integration fuzz-image-check

check-san:
	$(MAKE) SAN=1 check-plain

check:
	$(MAKE) check-plain
	$(MAKE) check-san

bench: all
	@AMBER_BUILD=$(BUILD) bench/run.sh

demo: all
	$(AMBER_CORE) scenarios/demo.xml

deps:
	tools/install-deps.sh

clean:
	rm -rf build build-san

# ---- runtime host tests ---------------------------------------------------
# The component runtime's printf and string code, compiled for the host and
# checked against glibc (tests/unit/test_printf.c). The runtime's mem and str
# functions are renamed rt_* so that they replace neither glibc's nor the
# sanitizers' interceptors in the test process. Needs no kernel or core
# objects, so this explicit rule overrides the unit-test pattern rule.
RT_RENAME := $(foreach f,memcpy memmove memset memcmp strlen strnlen strcmp strncmp,-D$(f)=rt_$(f))
$(BUILD)/tests/test_printf: tests/unit/test_printf.c lib/base/printf.c lib/base/printf_float.c lib/base/string.c \
		include/amber/printf.h include/amber/string.h lib/base/printf_float.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(RT_RENAME) $(filter %.c,$^) -o $@ -lcmocka
# ---- end of runtime host tests ---------------------------------------------

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
