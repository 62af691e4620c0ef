# The SDK's examples (build/sdk/examples/), built with the SDK alone:
#   make -C build/sdk/examples           (or, copied elsewhere: make AMBER_SDK=.../build/sdk)
#   ../../amber-core --components ../components:. example_threads.xml
# One source file per example; one Makefile builds them all (component.mk's
# COMPONENTS form).
COMPONENTS := example_threads example_sessions hello_server hello_client
$(foreach c,$(COMPONENTS),$(eval $(c)_SRC := $(c).c))
AMBER_SDK ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
include $(AMBER_SDK)/component.mk
