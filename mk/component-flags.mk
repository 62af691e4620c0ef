# How every component is compiled and linked: freestanding (no libc),
# static, non-PIE, into the image area of docs/abi.md. Shared by the tree's
# Makefile and the SDK (mk/component.mk), so both build components alike.
#
# In:  AMBER_INCLUDE  the folder that holds amber/*.h
#      AMBER_LDSCRIPT the component linker script
AMBER_COMPONENT_CFLAGS = -std=c17 -Wall -Wextra -Werror -O2 -g -I$(AMBER_INCLUDE) -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pic -fno-pie -fcf-protection=none
AMBER_COMPONENT_LDFLAGS = -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,$(AMBER_LDSCRIPT)
