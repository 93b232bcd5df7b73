"""Build step of the loyalty package: bundle the C library into the package.

When this directory sits in a libloyalty checkout (../../ holds
include/loyalty.h and the Makefile), `make -C <root> lib` builds the shared
library and its SONAME file is copied to src/loyalty/_lib/, so the wheel
carries it. Outside a checkout nothing is bundled and the package loads the
system's libloyalty.so.1 at import.

Environment:
  LOYALTY_BUILD_DIR   the Makefile's BUILD folder to use (default: build)
  LOYALTY_NO_BUNDLE   set to 1 to bundle nothing (use an installed library)
  MAKE                the make program (default: make)
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70.1 keeps it in the wheel package
    try:
        from wheel.bdist_wheel import bdist_wheel as _bdist_wheel
    except ImportError:
        _bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SONAME = "libloyalty.so.1"
BUNDLE_DIR = os.path.join(HERE, "src", "loyalty", "_lib")


def _in_checkout():
    return (os.path.isfile(os.path.join(ROOT, "include", "loyalty.h"))
            and os.path.isfile(os.path.join(ROOT, "Makefile")))


def bundle_library():
    if os.environ.get("LOYALTY_NO_BUNDLE") == "1":
        print("loyalty: LOYALTY_NO_BUNDLE=1: not bundling the C library")
        return
    if not _in_checkout():
        print(f"loyalty: {ROOT} is not a libloyalty checkout: not bundling the C library "
              "(the system's libloyalty.so.1 is loaded at import)")
        return
    build = os.environ.get("LOYALTY_BUILD_DIR", "build")
    make = os.environ.get("MAKE", "make")
    cmd = [make, "-C", ROOT, f"BUILD={build}", "lib"]
    print("loyalty: " + " ".join(cmd))
    subprocess.check_call(cmd, stdout=sys.stderr)
    built = os.path.join(build if os.path.isabs(build) else os.path.join(ROOT, build), SONAME)
    # The SONAME is a symlink to libloyalty.so.1.0.0: copy the real file
    # under the SONAME, which is the name the loader asks for.
    real = os.path.realpath(built)
    if not os.path.isfile(real):
        raise RuntimeError(f"loyalty: make built no {built}")
    os.makedirs(BUNDLE_DIR, exist_ok=True)
    target = os.path.join(BUNDLE_DIR, SONAME)
    if os.path.lexists(target):
        os.remove(target)
    shutil.copy2(real, target)
    print(f"loyalty: bundled {real} as {target}")


class build_py(_build_py):
    def run(self):
        bundle_library()
        super().run()


class BinaryDistribution(Distribution):
    """The package carries a native library: install it as platform code
    (platlib), not as pure Python."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": build_py}

if _bdist_wheel is not None:
    class bdist_wheel(_bdist_wheel):
        """The wheel carries a native library: it is platform-specific, but
        works with any Python 3 (ctypes, no extension module)."""

        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = bdist_wheel

setup(cmdclass=cmdclass, distclass=BinaryDistribution)
