# Amber component SDK: build a component outside the Amber tree.
#
#   COMPONENT := my_component        # the binary's name
#   SRC       := main.c util.c       # its C sources
#   include /path/to/amber/build/sdk/component.mk
#
# `make` then builds ./$(COMPONENT); run it with
#   amber-core --components . scenario.xml
# See docs/writing-components.md.
AMBER_SDK ?= $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
AMBER_INCLUDE := $(AMBER_SDK)/include
AMBER_LDSCRIPT := $(AMBER_SDK)/lib/component.ld
include $(AMBER_SDK)/component-flags.mk

ifndef COMPONENT
  $(error set COMPONENT to the component's name before including component.mk)
endif
SRC ?= $(wildcard *.c)
AMBER_OBJ := $(SRC:.c=.o)

$(COMPONENT): $(AMBER_OBJ) $(AMBER_SDK)/lib/libamber_base.a $(AMBER_LDSCRIPT)
	$(CC) $(AMBER_COMPONENT_CFLAGS) $(AMBER_COMPONENT_LDFLAGS) $(AMBER_OBJ) $(AMBER_SDK)/lib/libamber_base.a -lgcc -o $@

%.o: %.c
	$(CC) $(AMBER_COMPONENT_CFLAGS) -c $< -o $@

.PHONY: clean
clean:
	rm -f $(COMPONENT) $(AMBER_OBJ)
