#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Host unit tests for the iommu-reg tool, printing TAP.

    host-tests.py [path/to/iommu-reg]

Each test builds a fake sysfs tree in a temporary directory (plain files
and symlinks laid out as the kernel lays them out, with config space
images built capability by capability) and runs the tool on it through
IREG_SYSFS_ROOT, IREG_DEV_ROOT and IREG_STATE_DIR.  They cover parsing,
output, the checks bind/unbind make before writing anything, and what
they do when the kernel does not follow (with no kernel behind the tree
nothing ever binds: rollback, a missing /dev/vfio node); what the kernel
does with the writes is tested for real in the VM (tests/vm-tool.sh).
No root needed, nothing outside the temporary directory is touched.
Exit status 0 if every test passed, 1 otherwise.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(HERE, "..", "iommu-reg"))
TIMEOUT = 20

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_UNSUPPORTED = 0, 1, 2, 3

# ---- config space images ----

CAP_PM, CAP_MSI, CAP_EXP = 0x01, 0x05, 0x10
EXT_AER, EXT_ACS, EXT_ATS, EXT_PRI, EXT_PASID = 0x01, 0x0D, 0x0F, 0x13, 0x1B


class Config:
    """A config space image: header, then capabilities placed by hand."""

    def __init__(self, size, vendor, device, cls):
        self.b = bytearray(size)
        self.w16(0x00, vendor)
        self.w16(0x02, device)
        self.b[0x09:0x0c] = cls.to_bytes(3, "little")

    def w16(self, pos, val):
        self.b[pos:pos + 2] = val.to_bytes(2, "little")

    def w32(self, pos, val):
        self.b[pos:pos + 4] = val.to_bytes(4, "little")

    def std(self, first, caps):
        """caps: [(pos, id, next)]; sets Status.CapList and the pointer."""
        self.w16(0x06, 0x0010)
        self.b[0x34] = first
        for pos, cap_id, nxt in caps:
            self.b[pos] = cap_id
            self.b[pos + 1] = nxt
        return self

    def ext(self, caps):
        """caps: [(pos, id, next)]."""
        for pos, cap_id, nxt in caps:
            self.w32(pos, cap_id | 1 << 16 | nxt << 20)
        return self

    def bytes(self):
        return bytes(self.b)


def pasid_cap(width, exec_, priv):
    return width << 8 | (0x02 if exec_ else 0) | (0x04 if priv else 0)


def cfg_full():
    """PCIe device with AER, ACS, ATS, PRI and PASID (20 bits, exec)."""
    c = Config(4096, 0x8086, 0x10d3, 0x020000)
    c.std(0x40, [(0x40, CAP_PM, 0x50), (0x50, CAP_MSI, 0x60),
                 (0x60, CAP_EXP, 0x00)])
    c.ext([(0x100, EXT_AER, 0x140), (0x140, EXT_ACS, 0x180),
           (0x180, EXT_ATS, 0x1c0), (0x1c0, EXT_PRI, 0x200),
           (0x200, EXT_PASID, 0x000)])
    # Reserved bits set: the width is bits 12:8 only.
    c.w16(0x204, 0xe000 | pasid_cap(20, True, False))
    return c.bytes()


def cfg_edu():
    """Conventional PCI (256 bytes, MSI only), like QEMU's edu."""
    return Config(256, 0x1234, 0x11e8, 0x00ff00).std(
        0x40, [(0x40, CAP_MSI, 0x00)]).bytes()


def cfg_short():
    """What a non-root reader gets: the first 64 bytes."""
    return Config(4096, 0x1af4, 0x1041, 0x020000).std(
        0x40, [(0x40, CAP_EXP, 0x00)]).bytes()[:64]


def cfg_loops():
    """Both lists loop back on themselves."""
    c = Config(4096, 0x10ee, 0x9038, 0x058000)
    c.std(0x40, [(0x40, CAP_PM, 0x50), (0x50, CAP_EXP, 0x40)])
    c.ext([(0x100, EXT_ATS, 0x140), (0x140, EXT_PRI, 0x100)])
    return c.bytes()


def cfg_bad_pointers():
    """Standard pointer below 0x40, extended pointer below 0x100."""
    c = Config(4096, 0x10ee, 0x9039, 0x058000)
    c.std(0x20, [])
    c.ext([(0x100, EXT_ACS, 0x0f0)])
    return c.bytes()


def cfg_pasid_truncated():
    """A PASID capability, then a second header too close to the end."""
    c = Config(4096, 0x10ee, 0x903a, 0x058000)
    c.std(0x40, [(0x40, CAP_EXP, 0x00)])
    c.ext([(0x100, EXT_PASID, 0xffc), (0xffc, EXT_PASID, 0x000)])
    c.w16(0x104, pasid_cap(5, False, True))
    return c.bytes()


def cfg_no_ext():
    """PCIe, but the extended space reads all ones."""
    c = Config(4096, 0x10ee, 0x903b, 0x058000)
    c.std(0x40, [(0x40, CAP_EXP, 0x00)])
    c.w32(0x100, 0xffffffff)
    return c.bytes()


# ---- fake sysfs ----

class FakeSys:
    """sys/devices/pci0000:00/<bdf> with bus/pci/{devices,drivers} links."""

    def __init__(self, top):
        self.top = top
        self.sys = os.path.join(top, "sys")
        self.dev = os.path.join(top, "dev")
        self.state = os.path.join(top, "run", "iommu-reg")
        self.log = os.path.join(top, "writes.log")
        self.pci = os.path.join(self.sys, "bus", "pci")
        self.devices = os.path.join(self.pci, "devices")
        self.drivers = os.path.join(self.pci, "drivers")
        for d in (self.devices, self.drivers, self.dev,
                  os.path.join(self.sys, "devices", "pci0000:00")):
            os.makedirs(d, exist_ok=True)
        self.write(os.path.join(self.pci, "drivers_probe"), "")

    @staticmethod
    def write(path, data):
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)

    def add_driver(self, name, ids=()):
        d = os.path.join(self.drivers, name)
        os.makedirs(d)
        for attr in ("bind", "unbind", "new_id"):
            self.write(os.path.join(d, attr), "")
        self.write(os.path.join(d, "ids"), "\n".join(ids) + "\n")

    def add_device(self, bdf, config, driver=None, group=None):
        real = os.path.join(self.sys, "devices", "pci0000:00", bdf)
        os.makedirs(real)
        os.symlink("../../../devices/pci0000:00/" + bdf,
                   os.path.join(self.devices, bdf))
        vendor = int.from_bytes(config[0:2], "little")
        device = int.from_bytes(config[2:4], "little")
        cls = int.from_bytes(config[9:12], "little")
        self.write(os.path.join(real, "vendor"), "0x%04x\n" % vendor)
        self.write(os.path.join(real, "device"), "0x%04x\n" % device)
        self.write(os.path.join(real, "class"), "0x%06x\n" % cls)
        self.write(os.path.join(real, "config"), config)
        self.write(os.path.join(real, "driver_override"), "(null)\n")
        if driver is not None:
            target = b"../../../bus/pci/drivers/" + (
                driver if isinstance(driver, bytes) else driver.encode())
            os.symlink(target, os.path.join(real.encode(), b"driver"))
        if group is not None:
            os.symlink("../../../kernel/iommu_groups/%d" % group,
                       os.path.join(real, "iommu_group"))
        return real

    def driver_of(self, bdf):
        try:
            return os.path.basename(os.readlink(
                os.path.join(self.devices, bdf, "driver")))
        except FileNotFoundError:
            return None

    def attr(self, bdf, name):
        with open(os.path.join(self.devices, bdf, name)) as f:
            return f.read()

    def state_file(self, bdf):
        return os.path.join(self.state, bdf + ".driver")

    def writes(self):
        try:
            with open(self.log) as f:
                return [line.split(" ", 1)[0] for line in f]
        except FileNotFoundError:
            return []


def devices_tree(top):
    fs = FakeSys(top)
    fs.add_device("0000:00:01.0", cfg_full(), driver="e1000e", group=1)
    fs.add_device("0000:00:02.0", cfg_edu(), group=2)
    fs.add_device("0000:00:03.0", cfg_short(), driver="virtio-pci")
    fs.add_device("0000:00:04.0", cfg_loops(), group=4)
    fs.add_device("0000:00:05.0", cfg_bad_pointers(), group=5)
    fs.add_device("0000:00:06.0", cfg_pasid_truncated(), group=6)
    fs.add_device("0000:00:07.0", cfg_no_ext(), group=7,
                  driver=b'we"ird\\drv\x01\xc3\xa9\xff')
    return fs


def bind_tree(top, vfio=True):
    fs = FakeSys(top)
    if vfio:
        fs.add_driver("vfio-pci")
    fs.add_driver("e1000e", ["8086:10d3"])
    fs.add_driver("virtio-pci", ["1af4:1041"])
    fs.add_device("0000:00:01.0", cfg_full(), driver="e1000e", group=1)
    fs.add_device("0000:00:02.0", cfg_edu(), group=2)
    fs.add_device("0000:00:03.0", cfg_short(), driver="virtio-pci")
    real = fs.add_device("0000:00:08.0", cfg_full(), driver="e1000e",
                         group=8)
    fs.write(os.path.join(real, "fail_probe"), "")
    return fs


# ---- running the tool ----

def run(fs, *args, stdout=subprocess.PIPE, tool=TOOL,
        user=None):
    env = dict(os.environ)
    env.update(IREG_SYSFS_ROOT=fs.sys, IREG_DEV_ROOT=fs.dev,
               IREG_STATE_DIR=fs.state, LC_ALL="C")
    argv = [tool] + list(args)
    if user is not None:
        argv = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user,
                "--clear-groups"] + argv
    p = subprocess.run(argv, env=env, stdout=stdout, stderr=subprocess.PIPE,
                       timeout=TIMEOUT)
    # Strict: invalid UTF-8 on stdout is a failure.
    out = p.stdout.decode("utf-8") if p.stdout else ""
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def expect(res, rc, err=None):
    got, out, stderr = res
    check(got == rc, "exit %d, want %d; stderr: %r" % (got, rc, stderr))
    if err is not None:
        check(err in stderr, "stderr %r lacks %r" % (stderr, err))
    return out


def expect_refused(fs, args, rc, err, bdf, driver):
    """The tool refuses with @rc and @err, and @bdf stays on @driver."""
    res = run(fs, *args)
    expect(res, rc, err)
    check(fs.driver_of(bdf) == driver, "driver changed")
    return res


def devices_json(fs, *args):
    out = expect(run(fs, "-j", "dev", "show", *args), EXIT_OK)
    try:
        return {d["bdf"]: d for d in json.loads(out)}
    except ValueError as e:
        raise AssertionError("invalid JSON (%s): %r" % (e, out))


def one_device(fs, bdf, caps=("pcie", "ats", "pri", "acs", "pasid")):
    """dev show BDF in JSON: the device's @caps, and stderr."""
    rc, out, err = run(fs, "-j", "dev", "show", bdf)
    check(rc == EXIT_OK, "exit %d" % rc)
    d = json.loads(out)[0]
    return {k: d[k] for k in caps}, err


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


# ---- devices ----

KEYS = {"bdf", "vendor", "device", "class", "name", "driver", "iommu_group",
        "pcie", "ats", "pri", "acs", "pasid"}


@test
def devices_json_parses_and_is_sorted(top):
    fs = devices_tree(top)
    out = expect(run(fs, "-j", "dev", "show"), EXIT_OK)
    devs = json.loads(out)
    check(isinstance(devs, list), "not a list")
    check([d["bdf"] for d in devs] ==
          ["0000:00:0%d.0" % i for i in range(1, 8)], "order/bdfs wrong")
    for d in devs:
        check(set(d) == KEYS, "%s keys %s" % (d["bdf"], sorted(d)))


@test
def devices_pcie_pasid_pri_ats_acs(top):
    d = devices_json(devices_tree(top))["0000:00:01.0"]
    want = {"bdf": "0000:00:01.0", "vendor": "8086", "device": "10d3",
            "class": "020000", "name": None, "driver": "e1000e",
            "iommu_group": 1, "pcie": True, "ats": True, "pri": True,
            "acs": True, "pasid": {"width": 20, "exec": True,
                                   "priv": False}}
    check(d == want, "got %r" % d)


@test
def devices_conventional_pci_edu(top):
    d = devices_json(devices_tree(top))["0000:00:02.0"]
    want = {"name": "edu", "vendor": "1234", "device": "11e8",
            "driver": None, "iommu_group": 2, "pcie": False, "ats": False,
            "pri": False, "acs": False, "pasid": False}
    check({k: d[k] for k in want} == want, "got %r" % d)


@test
def devices_short_config_is_unknown(top):
    d = devices_json(devices_tree(top))["0000:00:03.0"]
    for k in ("pcie", "ats", "pri", "acs", "pasid", "iommu_group"):
        check(d[k] is None, "%s = %r, want null" % (k, d[k]))
    check(d["driver"] == "virtio-pci", "driver %r" % d["driver"])


# Malformed capability lists: what is found before the fault, and the
# warning, one test each.
CAPS_CASES = (
    ("devices_looping_lists_terminate", "0000:00:04.0",
     {"pcie": True, "ats": True, "pri": True, "acs": False, "pasid": False},
     "0000:00:04.0: capability list loops at 0x40"),
    ("devices_bad_pointers_stop", "0000:00:05.0",
     {"pcie": False, "ats": False, "pri": False, "acs": True,
      "pasid": False},
     "capability pointer out of range at 0x20"),
    ("devices_truncated_pasid", "0000:00:06.0",
     {"pasid": {"width": 5, "exec": False, "priv": True}},
     "PASID capability truncated at 0xffc"),
)


def caps_test(name, bdf, want, warning):
    def fn(top):
        got, err = one_device(devices_tree(top), bdf, tuple(want))
        check(got == want, "got %r" % got)
        check(warning in err, "no warning %r: %r" % (warning, err))
    fn.__name__ = name
    return test(fn)


for case in CAPS_CASES:
    caps_test(*case)


@test
def devices_no_extended_caps(top):
    d = devices_json(devices_tree(top))["0000:00:07.0"]
    got = {k: d[k] for k in ("pcie", "ats", "pri", "acs", "pasid")}
    check(got == {"pcie": True, "ats": False, "pri": False, "acs": False,
                  "pasid": False}, "got %r" % got)


@test
def devices_json_escapes_strings(top):
    d = devices_json(devices_tree(top))["0000:00:07.0"]
    want = 'we"ird\\drv\x01\u00e9\ufffd'
    check(d["driver"] == want, "driver %r, want %r" % (d["driver"], want))


@test
def devices_pretty_json_same_data(top):
    fs = devices_tree(top)
    compact = expect(run(fs, "-j", "dev", "show"), EXIT_OK)
    pretty = expect(run(fs, "-j", "-p", "dev", "show"), EXIT_OK)
    check(json.loads(compact) == json.loads(pretty), "data differs")
    check(len(compact.splitlines()) == 1, "compact JSON is not one line")
    check(pretty.splitlines()[1].startswith("    {"), "not indented")


@test
def devices_text(top):
    fs = devices_tree(top)
    out = expect(run(fs, "dev", "show"), EXIT_OK)
    lines = out.splitlines()
    check(len(lines) == 7, "%d lines" % len(lines))
    check(lines[0] == "0000:00:01.0 8086:10d3 class 020000 driver e1000e"
          "     iommu_group 1    pcie yes ats yes pri yes acs yes "
          "pasid width 20 exec yes priv no", "line 1: %r" % lines[0])
    check(lines[1].endswith("pasid no name edu"), "line 2: %r" % lines[1])
    check("driver virtio-pci iommu_group none pcie unknown" in lines[2] and
          lines[2].endswith("pasid unknown"), "line 3: %r" % lines[2])
    check("driver we\"ird\\drv?\u00e9? " in lines[6],
          "line 7 not sanitised: %r" % lines[6])
    for line in lines:
        check(line == line.rstrip(), "trailing blank: %r" % line)


@test
def devices_pretty_text(top):
    fs = devices_tree(top)
    out = expect(run(fs, "-p", "dev", "show", "00:02.0"), EXIT_OK)
    want = ("0000:00:02.0 1234:11e8 class 00ff00\n"
            "\tdriver none       iommu_group 2\n"
            "\tpcie no  ats no  pri no  acs no  pasid no name edu\n")
    check(out == want, "got %r" % out)


@test
def devices_bdf_forms(top):
    fs = devices_tree(top)
    devs = devices_json(fs, "00:01.0")
    check(list(devs) == ["0000:00:01.0"], "got %r" % list(devs))
    expect(run(fs, "dev", "show", "0000:00:1F.0"), EXIT_ERROR,
           "iommu-reg: 0000:00:1f.0: No such device")


@test
def devices_unknown_bdf(top):
    out = expect(run(devices_tree(top), "dev", "show", "0000:00:1f.0"),
                 EXIT_ERROR, "iommu-reg: 0000:00:1f.0: No such device\n")
    check(out == "", "stdout %r" % out)


@test
def devices_invalid_bdf(top):
    fs = devices_tree(top)
    for bad in ("zz", "0000:00:20.0", "0000:00:01.8", "00:01.0x",
                "../../x", "0:00:01.0", ""):
        expect(run(fs, "dev", "show", bad), EXIT_USAGE, "invalid BDF")


@test
def devices_empty_and_missing_bus(top):
    fs = FakeSys(top)
    check(expect(run(fs, "-j", "dev", "show"), EXIT_OK) == "[]\n",
          "not []")
    shutil.rmtree(fs.devices)
    expect(run(fs, "dev", "show"), EXIT_ERROR, "No such file or directory")


@test
def devices_stdout_error(top):
    fs = devices_tree(top)
    with open("/dev/full", "w") as full:
        expect(run(fs, "-j", "dev", "show", stdout=full), EXIT_ERROR,
               "iommu-reg: stdout: No space left on device")


# ---- command line ----

@test
def usage_errors(top):
    fs = FakeSys(top)
    expect(run(fs, "frobnicate"), EXIT_USAGE,
           "iommu-reg: unknown command 'frobnicate'")
    expect(run(fs, "-x"), EXIT_USAGE, "unknown option '-x'")
    expect(run(fs, "--bogus"), EXIT_USAGE, "unknown option '--bogus'")
    expect(run(fs, "dev", "show", "00:01.0", "extra"), EXIT_USAGE,
           "unexpected argument 'extra'")
    for verb in ("bind", "unbind", "sva"):
        expect(run(fs, "dev", verb), EXIT_USAGE, "missing BDF")
    expect(run(fs, "version", "x"), EXIT_USAGE)
    expect(run(fs, "dev", "frob"), EXIT_USAGE,
           "iommu-reg: unknown verb 'frob'\nTry 'iommu-reg dev help'.")
    expect(run(fs, "stats", "show", "x"), EXIT_USAGE,
           "unexpected argument 'x'")


OBJECTS = {"dev": ("show", "bind", "unbind", "sva"),
           "region": ("show", "add"), "container": ("show",),
           "stats": ("show",)}
ALIASES = ("devices", "sva", "bind", "unbind", "register", "list")


@test
def help_at_every_level(top):
    fs = FakeSys(top)
    for args in (["help"], ["-h"], ["--help"]):
        out = expect(run(fs, *args), EXIT_OK)
        for word in list(OBJECTS) + ["monitor", "version", "-j"]:
            check(word in out, "%s: no %r" % (args, word))
    for obj, verbs in OBJECTS.items():
        out = expect(run(fs, obj, "help"), EXIT_OK)
        check(out.startswith("Usage: iommu-reg [OPTIONS] %s VERB" % obj),
              "%s help: %r" % (obj, out))
        for verb in verbs:
            check("\n  %s " % verb in out, "%s help: no %s" % (obj, verb))
            out2 = expect(run(fs, obj, verb, "help"), EXIT_OK)
            check(out2.startswith("Usage: iommu-reg [OPTIONS] %s %s" %
                                  (obj, verb)), "%s %s help: %r" %
                  (obj, verb, out2))
    for cmd in ("monitor", "version"):
        out = expect(run(fs, cmd, "help"), EXIT_OK)
        check(out.startswith("Usage: iommu-reg [OPTIONS] " + cmd),
              "%s help: %r" % (cmd, out))


@test
def help_lists_the_aliases_as_deprecated(top):
    out = expect(run(FakeSys(top), "help"), EXIT_OK)
    objects, _, aliases = out.partition("Deprecated aliases")
    check(aliases, "no deprecated aliases section: %r" % out)
    for alias in ALIASES:
        check("\n  %s " % alias in aliases, "alias %s not listed" % alias)
        check("\n  %s " % alias not in objects,
              "alias %s listed with the objects" % alias)
    for alias, now in (("devices", "dev show"), ("register", "region add"),
                       ("list containers", "container show")):
        check(alias in aliases and now in aliases,
              "%s: not said what it is now" % alias)


@test
def aliases_do_what_the_verbs_do(top):
    fs = vfio_tree(top, saved="e1000e")
    for old, new in ((["devices"], ["dev", "show"]),
                     (["devices", "00:01.0"], ["dev", "show", "00:01.0"]),
                     (["bind", "0000:00:09.0"], ["dev", "bind", "0000:00:09.0"]),
                     (["bind", "0000:00:01.0"], ["dev", "bind", "0000:00:01.0"]),
                     (["unbind", "0000:00:01.0"],
                      ["dev", "unbind", "0000:00:01.0"]),
                     (["unbind", "0000:00:1f.0"],
                      ["dev", "unbind", "0000:00:1f.0"]),
                     (["sva"], ["dev", "sva"]),
                     (["register"], ["region", "add"]),
                     (["register", "00:01.0", "mem", "x"],
                      ["region", "add", "00:01.0", "mem", "x"]),
                     (["list", "pid", "x"], ["region", "show", "pid", "x"]),
                     (["list", "regions", "pid", "x"],
                      ["region", "show", "pid", "x"]),
                     (["list", "containers", "pid", "x"],
                      ["container", "show", "pid", "x"])):
        for j in ([], ["-j"]):
            got, want = run(fs, *(j + old)), run(fs, *(j + new))
            # Usage errors name the words typed: compare the rest.
            got = got[:2] + (got[2].split("\nTry")[0],)
            want = want[:2] + (want[2].split("\nTry")[0],)
            check(got == want, "%s: %r, %s: %r" % (old, got, new, want))


@test
def aliases_are_not_abbreviated(top):
    fs = devices_tree(top)
    for word in ("devi", "regis", "lis", "unbin", "bin"):
        expect(run(fs, word), EXIT_USAGE, "unknown command '%s'" % word)


@test
def objects_and_verbs_abbreviate(top):
    fs = devices_tree(top)
    want = run(fs, "-j", "dev", "show", "00:01.0")
    check(want[0] == EXIT_OK, "dev show: %r" % (want,))
    for args in (["d", "s", "00:01.0"], ["de", "sh", "00:01.0"],
                 ["dev", "show", "00:01.0"]):
        check(run(fs, "-j", *args) == want, "%s differs" % args)
    # The first match in table order: "s" is stats, not the alias sva.
    check(run(fs, "s", "help")[1].startswith(
        "Usage: iommu-reg [OPTIONS] stats VERB"), "s is not stats")
    check(run(fs, "r", "help")[1].startswith(
        "Usage: iommu-reg [OPTIONS] region VERB"), "r is not region")
    expect(run(fs, "dev", "showx"), EXIT_USAGE, "unknown verb 'showx'")
    expect(run(fs, ""), EXIT_USAGE, "unknown command ''")


@test
def default_verbs(top):
    fs = devices_tree(top)
    check(run(fs, "-j") == run(fs, "-j", "dev", "show"), "differs")
    check(run(fs, "-j", "dev") == run(fs, "-j", "dev", "show"), "differs")
    for obj in ("region", "container", "stats"):
        check(run(fs, obj, "x")[2].startswith(
            "iommu-reg: unknown verb 'x'"), "%s x" % obj)


@test
def sva_usage(top):
    fs = FakeSys(top)
    expect(run(fs, "dev", "sva"), EXIT_USAGE, "missing BDF")
    expect(run(fs, "dev", "sva", "00:01.0", "00:01.0.0"), EXIT_USAGE,
           "invalid BDF '00:01.0.0'")
    out = expect(run(fs, "dev", "sva", "help"), EXIT_OK)
    check(out.startswith("Usage: iommu-reg [OPTIONS] dev sva BDF"),
          repr(out))
    out = expect(run(fs, "dev", "help"), EXIT_OK)
    check("sva" in out, "help: no sva")


@test
def version(top):
    fs = FakeSys(top)
    out = expect(run(fs, "-V"), EXIT_OK)
    check(out.startswith("iommu-reg ") and out.endswith("\n"), repr(out))
    check(run(fs, "version")[1] == out, "version differs from -V")
    check("version" in json.loads(expect(run(fs, "-j", "version"),
                                         EXIT_OK)), "no JSON version")


@test
def bench_left_the_tool(top):
    expect(run(FakeSys(top), "bench", "00:01.0", "00:02.0"), EXIT_USAGE,
           "unknown command 'bench'")


# ---- bind, unbind ----

class Skip(Exception):
    pass


@test
def bind_needs_vfio_pci(top):
    fs = bind_tree(top, vfio=False)
    expect(run(fs, "dev", "bind", "0000:00:01.0"), EXIT_UNSUPPORTED,
           "iommu-reg: vfio-pci: driver not loaded (run 'modprobe "
           "vfio-pci')")
    check(fs.attr("0000:00:01.0", "driver_override") == "(null)\n",
          "driver_override touched")
    check(not os.path.exists(fs.state), "state dir created")


@test
def bind_unknown_bdf(top):
    fs = bind_tree(top)
    expect(run(fs, "dev", "bind", "0000:00:1f.0"), EXIT_ERROR,
           "iommu-reg: 0000:00:1f.0: No such device")
    expect(run(fs, "dev", "unbind", "0000:00:1f.0"), EXIT_ERROR,
           "iommu-reg: 0000:00:1f.0: No such device")
    expect(run(fs, "dev", "bind", "1f.0"), EXIT_USAGE, "invalid BDF")


@test
def bind_needs_iommu_group(top):
    expect_refused(bind_tree(top), ("dev", "bind", "0000:00:03.0"),
                   EXIT_UNSUPPORTED, "no IOMMU group", "0000:00:03.0",
                   "virtio-pci")


@test
def bind_not_permitted(top):
    fs = bind_tree(top)
    tool, user = TOOL, None
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            raise Skip("root, and no setpriv to drop privileges")
        user = 65534
        os.chmod(os.path.dirname(top), 0o755)
        os.chmod(top, 0o755)
        tool = shutil.copy(TOOL, os.path.join(top, "iommu-reg"))
    os.makedirs(fs.state, mode=0o555)
    os.chmod(fs.state, 0o555)
    res = run(fs, "dev", "bind", "0000:00:01.0", tool=tool, user=user)
    expect(res, EXIT_ERROR, "Permission denied")
    check("need root" in res[2], "no hint: %r" % res[2])
    check(fs.driver_of("0000:00:01.0") == "e1000e", "driver changed")


# Without a kernel behind the fake tree nothing binds: a bind always ends
# in its rollback, and a device the tree says is on vfio-pci stays there.

def vfio_tree(top, node=True, saved=None):
    """bind_tree plus 0000:00:09.0 on vfio-pci in group 9."""
    fs = bind_tree(top)
    fs.add_device("0000:00:09.0", cfg_edu(), driver="vfio-pci", group=9)
    if node:
        os.makedirs(os.path.join(fs.dev, "vfio"))
        fs.write(os.path.join(fs.dev, "vfio", "9"), "")
    if saved is not None:
        os.makedirs(fs.state)
        fs.write(fs.state_file("0000:00:09.0"), saved + "\n")
    return fs


@test
def bind_rolls_back_when_vfio_pci_does_not_bind(top):
    fs = bind_tree(top)
    res = run(fs, "dev", "bind", "0000:00:01.0")
    expect(res, EXIT_ERROR,
           "iommu-reg: 0000:00:01.0: vfio-pci did not bind (see dmesg)\n")
    check(res[2].count("\n") == 1, "more than the failure: %r" % res[2])
    check(fs.attr("0000:00:01.0", "driver_override") == "\n",
          "driver_override not cleared")
    check(fs.driver_of("0000:00:01.0") == "e1000e", "driver changed")
    check(not os.path.exists(fs.state_file("0000:00:01.0")),
          "state file left")


@test
def bind_when_bound_reports_saved_driver(top):
    fs = vfio_tree(top, saved="e1000e")
    out = expect(run(fs, "-j", "dev", "bind", "0000:00:09.0"), EXIT_OK)
    got = json.loads(out)
    check(got["previous_driver"] == "e1000e" and
          got["driver"] == "vfio-pci" and got["iommu_group"] == 9 and
          got["vfio_group"] == os.path.join(fs.dev, "vfio", "9"),
          "got %r" % got)
    check(os.path.exists(fs.state_file("0000:00:09.0")), "state removed")


@test
def bind_needs_vfio_node(top):
    fs = vfio_tree(top, node=False)
    expect(run(fs, "dev", "bind", "0000:00:09.0"), EXIT_ERROR,
           "iommu-reg: %s/vfio/9: No such file or directory" % fs.dev)


@test
def unbind_refuses_other_driver(top):
    expect_refused(bind_tree(top), ("dev", "unbind", "0000:00:01.0"),
                   EXIT_ERROR,
                   "iommu-reg: 0000:00:01.0: bound to e1000e, not to vfio-pci",
                   "0000:00:01.0", "e1000e")


@test
def unbind_finishes_an_interrupted_one(top):
    fs = bind_tree(top)
    os.makedirs(fs.state)
    fs.write(fs.state_file("0000:00:02.0"), "\n")
    fs.write(os.path.join(fs.devices, "0000:00:02.0", "driver_override"),
             "vfio-pci\n")
    out = expect(run(fs, "-j", "dev", "unbind", "0000:00:02.0"), EXIT_OK)
    check(json.loads(out) == {"bdf": "0000:00:02.0", "driver": None},
          "got %r" % out)
    check(fs.attr("0000:00:02.0", "driver_override") == "\n",
          "driver_override not cleared")
    check(not os.path.exists(fs.state_file("0000:00:02.0")),
          "state file left")


@test
def unbind_still_bound(top):
    fs = vfio_tree(top, saved="e1000e")
    expect(run(fs, "dev", "unbind", "0000:00:09.0"), EXIT_ERROR,
           "iommu-reg: 0000:00:09.0: still bound to vfio-pci")
    check(os.path.exists(fs.state_file("0000:00:09.0")),
          "state file removed: unbind could not be run again")


# ---- netlink commands without the module ----

NETLINK_COMMANDS = (["stats"], ["stats", "show"], ["region"],
                    ["region", "show"], ["container", "show"], ["monitor"],
                    ["list"], ["list", "containers"],
                    ["region", "del", "pid", "1"],
                    ["region", "del", "container", "1", "handle", "1"])


@test
def netlink_commands_need_the_module(top):
    """On the host the module is not loaded: exit 3 and say so."""
    if os.path.exists("/sys/module/iommu_reg"):
        raise Skip("iommu_reg is loaded on this host")
    fs = devices_tree(top)
    for cmd in NETLINK_COMMANDS:
        expect(run(fs, *cmd), EXIT_UNSUPPORTED,
               "the iommu_reg module is not loaded")


@test
def netlink_commands_usage(top):
    fs = devices_tree(top)
    for show in (["region", "show"], ["container", "show"], ["list"]):
        expect(run(fs, *show, "pid"), EXIT_USAGE, "'pid' needs a number")
        for bad in ("x", "0", "-1", "4294967296", "1x"):
            expect(run(fs, *show, "pid", bad), EXIT_USAGE,
                   "bad pid '%s'" % bad)
    expect(run(fs, "region", "show", "container", "0"), EXIT_USAGE,
           "bad container '0'")
    expect(run(fs, "container", "show", "container", "1"), EXIT_USAGE,
           "unknown argument 'container'")
    expect(run(fs, "list", "bogus"), EXIT_USAGE, "bogus")
    expect(run(fs, "monitor", "count", "0"), EXIT_USAGE, "bad count")
    expect(run(fs, "monitor", "count"), EXIT_USAGE, "'count' needs a number")
    expect(run(fs, "monitor", "forever"), EXIT_USAGE,
           "unknown argument 'forever'")


@test
def region_add_usage(top):
    fs = devices_tree(top)
    expect(run(fs, "region", "add"), EXIT_USAGE, "missing BDF")
    expect(run(fs, "region", "add", "00:01.0.0"), EXIT_USAGE,
           "invalid BDF '00:01.0.0'")
    expect(run(fs, "region", "add", "0000:00:01.0", "mem", "x"),
           EXIT_USAGE, "bad mem 'x' (4k, thp or hugetlb)")
    expect(run(fs, "region", "add", "0000:00:01.0", "size"), EXIT_USAGE,
           "'size' needs a size")
    expect(run(fs, "region", "add", "0000:00:01.0", "size", "64K"),
           EXIT_USAGE, "thp needs a multiple of 2M")
    expect(run(fs, "region", "add", "0000:00:01.0", "invalidate-after",
               "-1"), EXIT_USAGE, "bad invalidate-after '-1'")
    expect(run(fs, "region", "add", "0000:00:01.0", "bogus"), EXIT_USAGE,
           "unknown argument 'bogus'")


@test
def region_del_usage(top):
    """del names its regions by container and handle, or by pid."""
    fs = devices_tree(top)
    which = "which region? 'container ID handle H' or 'pid PID'"
    for args in ([], ["container", "1"], ["handle", "1"]):
        expect(run(fs, "region", "del", *args), EXIT_USAGE, which)
    for word in ("pid", "container", "handle"):
        expect(run(fs, "region", "del", word), EXIT_USAGE,
               "'%s' needs a number" % word)
        for bad in ("x", "0", "-1", "4294967296"):
            expect(run(fs, "region", "del", word, bad), EXIT_USAGE,
                   "bad %s '%s'" % (word, bad))
    expect(run(fs, "region", "del", "pid", "1", "bogus"), EXIT_USAGE,
           "unknown argument 'bogus'")
    out = expect(run(fs, "region", "del", "help"), EXIT_OK)
    check("container ID handle H | pid PID" in out, out)
    out = expect(run(fs, "region", "help"), EXIT_OK)
    check("  del container ID handle H | pid PID" in out, out)
    out = expect(run(fs, "help"), EXIT_OK)
    check("registered buffers (show, add, del)" in out, out)


@test
def one_size_parser(top):
    """Sizes in bytes or K/M/G, multiples of 4K; the rest is refused."""
    fs = devices_tree(top)
    for bad in ("5", "0", "-4096", "4K5", "1T", "", "K", "4097",
                "0x1001", "99999999999999999999", "17179869184G"):
        expect(run(fs, "region", "add", "0000:00:01.0", "mem", "4k",
                   "size", bad), EXIT_USAGE, "bad size '%s'" % bad)
    for good in ("4096", "4k", "64K", "2m", "2M", "1G", "0x1000"):
        rc, _, err = run(fs, "region", "add", "0000:00:1f.0", "mem", "4k",
                         "size", good)
        check(rc != EXIT_USAGE, "size %s refused: %r" % (good, err))


# ---- runner ----

def main():
    if not os.access(TOOL, os.X_OK):
        print("1..0 # SKIP %s not built" % TOOL)
        return 1
    failed = 0
    with tempfile.TemporaryDirectory(prefix="ireg-test-") as tmp:
        tmp = os.path.realpath(tmp)
        print("TAP version 13")
        print("1..%d" % len(TESTS))
        for n, fn in enumerate(TESTS, 1):
            top = os.path.join(tmp, fn.__name__)
            os.makedirs(top)
            try:
                fn(top)
                print("ok %d %s" % (n, fn.__name__))
            except Skip as e:
                print("ok %d %s # SKIP %s" % (n, fn.__name__, e))
            except Exception as e:
                failed += 1
                print("not ok %d %s" % (n, fn.__name__))
                detail = (str(e) if isinstance(e, AssertionError)
                          else traceback.format_exc())
                for line in detail.splitlines():
                    print("#   " + line)
    print("# %d/%d passed" % (len(TESTS) - failed, len(TESTS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
