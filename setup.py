"""Only here to ship the top-level tasks/ and recipes/ folders inside the wheel.

They stay at the repo root (the files users read and edit); a wheel has no repo root, so the
build copies them to vold_bench/_data/, where vold_bench.tasks.data_dir finds them when the
checkout copy is absent. A copy at build time instead of a package-dir mapping: the mapping
would need every package listed by hand (it cannot be combined with `find`), and data-files
install outside the package, where code cannot find them reliably.
"""
import os

from setuptools import setup
from setuptools.command.build_py import build_py

DATA = ("tasks", "recipes")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):   # an editable install reads the checkout
            return
        for name in DATA:
            for root, dirs, files in os.walk(name):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                dest = os.path.join(self.build_lib, "vold_bench", "_data", root)
                self.mkpath(dest)
                for f in files:
                    self.copy_file(os.path.join(root, f), os.path.join(dest, f))


setup(cmdclass={"build_py": BuildPyWithData})
