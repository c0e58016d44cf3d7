# SPDX-License-Identifier: GPL-2.0-only
#
# iommu-reg: kernel module, library, tool and selftests.
#
#   make              build everything
#   make check        host unit tests + kselftests in the QEMU VM
#   make check-clients  unmodified DPDK in the VM, type1 then ours
#   make check-arm64  library, tests and tool cross-built for arm64, the
#                     library's host tests under qemu-user
#   make demo         build, boot the VM, show what the project does
#   make vm-shell     boot the VM with everything loaded, interactive
#   make bench        benchmarks (VM + host), CSV, table, plots in build/bench/
#   make install      module, library, headers, tool (DESTDIR, PREFIX)
#   make checkpatch   checkpatch.pl --strict over kernel/ and uapi/
#   make sparse       build the module under sparse (C=2)
#   make deps         install the Debian packages everything needs
#   make check KERNEL=debug (or make check-debug)
#                     the VM tests on the debug kernel (KASAN, lockdep,
#                     kmemleak, fault injection), built from Debian's 6.12
#                     source (KVER=6.1: from 6.1's) and cached first
#
# Variables: KDIR (kernel build tree), KVER=6.1|6.12|7.x (a Debian kernel line
# fetched into /var/cache/iommu-reg/kernels by tools/testing/kernels),
# KERNEL=debug, W=1 (extra kernel warnings), WERROR=1 (warnings are errors
# everywhere), PREFIX, DESTDIR, V=1.

# The goals that build and boot: install what a fresh machine lacks first
# (tools/testing/install-deps: only dpkg-query when everything is there;
# apt-get as root, through sudo only when not root).  Once per top-level
# make; IREG_NO_DEPS=1 skips it.
DEPS_GOALS	:= check check-debug check-matrix check-clients demo demo-debug \
		   bench bench-vm vm-shell check-cross check-arm64
ifneq ($(filter $(DEPS_GOALS),$(MAKECMDGOALS)),)
ifeq ($(IREG_NO_DEPS)$(MAKELEVEL),0)
DEPS_OUT	:= $(shell tools/testing/install-deps >&2)
ifneq ($(.SHELLSTATUS),0)
$(error tools/testing/install-deps failed: see above)
endif
endif
endif

# KVER=<line>: that Debian kernel line's cached tree and source files,
# fetched on first use (tools/testing/kernels; cached afterwards).
ifneq ($(KVER),)
KVER_KDIR	:= $(shell tools/testing/kernels --kdir $(KVER))
KVER_KSRC	:= $(shell tools/testing/kernels --ksrc $(KVER))
ifeq ($(KVER_KDIR)$(KVER_KSRC),)
$(error KVER=$(KVER): tools/testing/kernels could not provide it)
endif
KDIR		?= $(KVER_KDIR)
KSRC		?= $(KVER_KSRC)
endif

# The kernel to build for: the running kernel's tree when it has one,
# otherwise the newest installed Debian kernel headers.
RUNNING_KDIR	:= /lib/modules/$(shell uname -r)/build
ifeq ($(origin KDIR),undefined)
ifneq ($(wildcard $(RUNNING_KDIR)/Makefile),)
KDIR		:= $(RUNNING_KDIR)
else
KDIR		:= /usr/src/linux-headers-$(shell tools/testing/kver 2>/dev/null)
endif
endif

# A few files of the matching kernel source: VFIO's private header (the
# backend ABI check) and the kselftest harness.  Taken from Debian's
# linux-source package at build time, never copied into the tree: the one
# of KDIR's line (VERSION.PATCHLEVEL) when installed (DKMS building for
# several kernels), otherwise the first installed.
KDIR_LINE_EARLY	:= $(shell cut -d. -f1-2 $(KDIR)/include/config/kernel.release 2>/dev/null)
LINUX_SOURCE_TAR ?= $(firstword $(wildcard /usr/src/linux-source-$(KDIR_LINE_EARLY).tar.xz) \
		    $(wildcard /usr/src/linux-source-*.tar.xz))
BUILD		:= $(CURDIR)/build
KSRC_NAME	:= $(basename $(basename $(notdir $(LINUX_SOURCE_TAR))))
KSRC		?= $(BUILD)/$(KSRC_NAME)
KSRC_STAMP	:= $(KSRC)/.extracted
KSRC_FILES	:= drivers/vfio/vfio.h Makefile \
		   tools/testing/selftests/kselftest_harness.h \
		   tools/testing/selftests/kselftest.h \
		   scripts/checkpatch.pl scripts/spelling.txt \
		   scripts/const_structs.checkpatch

PREFIX		?= /usr/local
export PREFIX DESTDIR WERROR

# Compile probes of the target kernel's API (kernel/probes/): one header
# per kernel release, so DKMS builds for several kernels do not collide.
KRELEASE	= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
IREG_CONFIG_DIR	= $(BUILD)/config/$(KRELEASE)
IREG_CONFIG_H	= $(IREG_CONFIG_DIR)/ireg_config.h

KMAKE		= $(MAKE) -C $(KDIR) M=$(CURDIR) IREG_KSRC=$(KSRC) \
		  IREG_CONFIG_DIR=$(IREG_CONFIG_DIR) \
		  $(if $(filter 1,$(WERROR)),KCFLAGS=-Werror)

all: module lib tool selftests bench-progs test-progs

ifneq ($(KVER),)
# tools/testing/kernels extracted them (and left the stamp).
$(KSRC_STAMP):
	@tools/testing/kernels --ksrc $(KVER) >/dev/null
else
$(KSRC_STAMP): $(LINUX_SOURCE_TAR)
	@test -n "$(LINUX_SOURCE_TAR)" || { echo "no /usr/src/linux-source-*.tar.xz: run 'make deps'" >&2; exit 1; }
	@echo "  EXTRACT $(KSRC_NAME): $(words $(KSRC_FILES)) files"
	@mkdir -p $(BUILD)
	@tar -xJf $(LINUX_SOURCE_TAR) -C $(BUILD) \
		$(addprefix $(KSRC_NAME)/,$(KSRC_FILES))
	@touch $@
endif

ksrc: $(KSRC_STAMP)

kdir-check:
	@test -e $(KDIR)/Makefile || { echo "KDIR=$(KDIR) is not a kernel build tree: run 'make deps' or set KDIR" >&2; exit 1; }

# The probes of vfio.h and the ABI check are only as good as KSRC: it must
# be the source of the kernel KDIR builds for (same VERSION.PATCHLEVEL).
KSRC_LINE	= $(shell sed -n 's/^VERSION = //p;s/^PATCHLEVEL = //p' $(KSRC)/Makefile 2>/dev/null | paste -sd.)
KDIR_LINE	= $(shell echo $(KRELEASE) | cut -d. -f1-2)

ksrc-check: $(KSRC_STAMP) kdir-check
	@test "$(KSRC_LINE)" = "$(KDIR_LINE)" || { echo "KSRC=$(KSRC) is Linux $(KSRC_LINE) but KDIR=$(KDIR) builds for $(KRELEASE): build with KVER=<line> or point KSRC at that kernel's source" >&2; exit 1; }

$(IREG_CONFIG_H): kernel/probes/run $(wildcard kernel/probes/*.c) $(KSRC_STAMP) | ksrc-check
	@kernel/probes/run $(KDIR) $@ $(KSRC)

probes: $(IREG_CONFIG_H)

module: $(KSRC_STAMP) ksrc-check $(IREG_CONFIG_H)
	$(KMAKE) modules

lib: $(KSRC_STAMP)
	$(MAKE) -C lib all tests KSFT_DIR=$(KSRC)/tools/testing/selftests

tool: lib
	$(MAKE) -C tools/iommu-reg

bench-progs: lib
	$(MAKE) -C tools/bench

# The test VM's own programs: the edu DMA self-check.
test-progs: lib
	$(MAKE) -C tools/testing/edu-check

selftests: $(KSRC_STAMP)
	$(MAKE) -C selftests KSFT_DIR=$(KSRC)/tools/testing/selftests

# The release the module was built for is the kernel the VM boots.
kernelrelease:
	@sed -n 's/^#define UTS_RELEASE "\(.*\)"$$/\1/p' \
		$(KDIR)/include/generated/utsrelease.h

# The debug kernel (tools/testing/debug-kernel) and the module built
# against its tree, in build/debug-module: a directory of links to kernel/
# and uapi/, so that kernel/iommu_reg.ko (Debian's kernel) stays as it is.
# DEBUG_KVER: the Debian kernel line whose source the debug kernel is built
# from, 6.12 unless KVER names another (make check KERNEL=debug KVER=6.1).
DEBUG_KVER	?= $(or $(KVER),6.12)
export DEBUG_KVER
DEBUG_KERNEL_BUILD := tools/testing/debug-kernel/build
DEBUG_MOD	:= $(BUILD)/debug-module

debug-kernel:
	$(DEBUG_KERNEL_BUILD)

debug-module: debug-kernel
	@mkdir -p $(DEBUG_MOD)/kernel
	@ln -sfn $(CURDIR)/Kbuild $(DEBUG_MOD)/Kbuild
	@ln -sfn $(CURDIR)/uapi $(DEBUG_MOD)/uapi
	@for f in $(CURDIR)/kernel/*.[ch] $(CURDIR)/kernel/Kbuild; do \
		ln -sfn $$f $(DEBUG_MOD)/kernel/; done
	@# The compile probes, against the debug tree, as "module" does.
	kernel/probes/run $$($(DEBUG_KERNEL_BUILD) --path)/linux \
		$(BUILD)/config/debug/ireg_config.h
	$(MAKE) -C $$($(DEBUG_KERNEL_BUILD) --path)/linux M=$(DEBUG_MOD) \
		IREG_CONFIG_DIR=$(BUILD)/config/debug \
		$(if $(filter 1,$(WERROR)),KCFLAGS=-Werror) modules

ifeq ($(KERNEL),debug)
check: check-debug
demo: demo-debug
else
check: all
	KDIR=$(KDIR) KVER=$(KVER) CHECK_SUBSET=$(CHECK_SUBSET) tools/testing/check
endif

# Every kernel line: the whole suite on Debian 12's 6.1 and on 6.12, the
# core kselftests on the newest 7.x (see Documentation/compatibility.rst).
check-matrix:
	$(MAKE) check
	$(MAKE) check KVER=6.12
	$(MAKE) check KVER=7.x CHECK_SUBSET=core

check-debug: all debug-module
	KERNEL=debug tools/testing/check

# Unmodified real clients (Debian's DPDK, fetched into a cache) in the VM,
# on type1 and then on our backend in type1 drop-in mode.  Not part of
# make check; .ci/run runs it on 6.1 and 6.12.
check-clients: all
	KDIR=$(KDIR) KVER=$(KVER) tools/testing/clients

demo-debug: all debug-module
	KERNEL=debug tools/testing/demo

ifneq ($(KERNEL),debug)
demo: all
	KDIR=$(KDIR) KVER=$(KVER) tools/testing/demo
endif

# The library, its tests and the tool cross-built for another architecture
# (ARCH=arm64, the only one set up) in build/cross-<arch>/, a copy, and the
# library's host tests run there under qemu-user; results in
# build/check-<arch>/results.  No module, no VM.  .ci/run runs it.
check-cross: $(KSRC_STAMP)
	ARCH=$(or $(ARCH),arm64) KSFT_DIR=$(KSRC)/tools/testing/selftests \
		tools/testing/cross-check

check-arm64:
	$(MAKE) check-cross ARCH=arm64

# Benchmarks: the VM ones (one boot) beside type1, the host ones beside
# malloc and ck_ring, callgrind instruction counts; CSV, table and plots
# in build/bench/.  Not part of make check.  bench-vm is the old name.
bench: all
	KDIR=$(KDIR) tools/testing/bench

bench-vm: bench

vm-shell: all
	tools/testing/vm/vm-shell --kernel /boot/vmlinuz-$$($(MAKE) -s kernelrelease) \
		--ko kernel/iommu_reg.ko \
		--file tools/iommu-reg/iommu-reg \
		$(foreach t,$(shell $(MAKE) -s -C selftests list),--test selftests/$(t))

CHECKPATCH	= perl $(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse \
		  --ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG

# uapi headers cannot use BIT(): it is not part of the uapi.
checkpatch: $(KSRC_STAMP)
	$(CHECKPATCH) -f $(filter-out %.mod.c,$(wildcard kernel/*.[ch] kernel/probes/*.c))
	$(CHECKPATCH) --ignore BIT_MACRO -f uapi/linux/*.h

sparse: $(KSRC_STAMP) ksrc-check $(IREG_CONFIG_H)
	$(KMAKE) C=2 modules

install: install-module install-lib install-tool

install-module: module
	$(KMAKE) INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),DEPMOD=true) modules_install

install-lib: lib
	$(MAKE) -C lib install

install-tool: tool
	$(MAKE) -C tools/iommu-reg install

deps:
	tools/testing/install-deps

clean:
	-$(KMAKE) clean
	$(MAKE) -C lib clean
	$(MAKE) -C tools/iommu-reg clean
	$(MAKE) -C selftests clean
	$(MAKE) -C tools/bench clean
	rm -rf $(BUILD)

.PHONY: check-cross check-arm64 check-clients check-matrix all ksrc kdir-check ksrc-check probes module lib tool selftests bench-progs test-progs bench bench-vm \
	kernelrelease check check-debug demo-debug debug-kernel debug-module \
	demo vm-shell checkpatch sparse install install-module install-lib \
	install-tool deps clean
