# Amber component SDK: build components outside the Amber tree.
#
# One component:
#   COMPONENT := my_component        # the binary's name
#   SRC       := main.c util.c       # its C sources (default: every *.c)
#   include /path/to/amber/build/sdk/component.mk
#
# Several from one Makefile:
#   COMPONENTS  := server client
#   server_SRC  := server.c proto.c
#   client_SRC  := client.c proto.c
#   include /path/to/amber/build/sdk/component.mk
#
# CFLAGS and CPPFLAGS set before or on the command line are added after the
# SDK's own flags (which include -Werror: a component builds warning-free,
# as the tree's do). Objects go into .amber-obj/NAME/ with their header
# dependencies (-MMD), so changing a header rebuilds what includes it.
#
# `make` builds every component; run them with
#   amber-core --components $(AMBER_SDK)/components:. scenario.xml
# ($(AMBER_SDK)/components holds init). See docs/writing-components.md.
AMBER_SDK ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
AMBER_INCLUDE := $(AMBER_SDK)/include
AMBER_LDSCRIPT := $(AMBER_SDK)/lib/component.ld
include $(AMBER_SDK)/component-flags.mk

ifdef COMPONENT
  COMPONENTS += $(COMPONENT)
  $(COMPONENT)_SRC ?= $(if $(SRC),$(SRC),$(wildcard *.c))
endif
ifeq ($(strip $(COMPONENTS)),)
  $(error set COMPONENT (or COMPONENTS) before including component.mk)
endif

$(foreach c,$(COMPONENTS),$(if $(strip $($(c)_SRC)),,$(error set $(c)_SRC to the sources of component $(c))))

AMBER_OBJDIR := .amber-obj
amber_objs = $(patsubst %.c,$(AMBER_OBJDIR)/$(1)/%.o,$($(1)_SRC))

.PHONY: all clean
all: $(COMPONENTS)

# One link rule and one compile rule per component, so that each may have
# sources of the same name as another's.
define amber_component
$(1): $$(call amber_objs,$(1)) $$(AMBER_SDK)/lib/libamber_base.a $$(AMBER_LDSCRIPT)
	$$(CC) $$(AMBER_COMPONENT_CFLAGS) $$(CFLAGS) $$(AMBER_COMPONENT_LDFLAGS) $$(call amber_objs,$(1)) \
		$$(AMBER_SDK)/lib/libamber_base.a -lgcc -o $$@

$$(AMBER_OBJDIR)/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(AMBER_COMPONENT_CFLAGS) $$(CPPFLAGS) $$(CFLAGS) -MMD -MP -c $$< -o $$@

-include $$(patsubst %.o,%.d,$$(call amber_objs,$(1)))
endef
$(foreach c,$(COMPONENTS),$(eval $(call amber_component,$(c))))

clean:
	rm -rf $(COMPONENTS) $(AMBER_OBJDIR)
