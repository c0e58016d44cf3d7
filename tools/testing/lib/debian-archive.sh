# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced (POSIX sh) by tools/testing/kernels and tools/testing/dpdk: the
# Debian archive the host's apt already uses, and apt options for a private
# sources list and list directory under a cache (the host's apt
# configuration is never touched).

# The first URI that serves "debian" (not debian-security) in the host's
# one-line or deb822 sources.
archive_uri() {
	{
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\)[[:space:]].*/\2/p'
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
			sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
	} | grep -E '^(https?|file):' | grep -E '/debian/?$' | head -n 1
}

# apt-get/apt-cache options for the private apt directory $APTDIR.
apt_opts() {
	echo "-o Dir::Etc::SourceList=$APTDIR/sources.list" \
	     "-o Dir::Etc::SourceParts=/dev/null" \
	     "-o Dir::State::Lists=$APTDIR/lists" \
	     "-o Dir::Cache=$APTDIR/cache" \
	     "-o Debug::NoLocking=1 -o APT::Sandbox::User=root"
}
