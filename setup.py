"""Packaging: the folders at the repository root install as subpackages of ONE import name,
`reviewhoard` (`reviewhoard.archive`, `reviewhoard.hoard`, `reviewhoard.settings`, ...), so nothing
else lands at the top of site-packages. The rest of the metadata is in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

NAME = "reviewhoard"
ROOT = Path(__file__).resolve().parent
# Root folders with an __init__.py that are not the product.
NOT_SHIPPED = ["tests", "tests.*", "benchmarks", "benchmarks.*", "build", "build.*"]
# Root .py files that are not the product (the rest, settings.py and items.py, are).
NOT_MODULES = {"setup.py", "conftest.py", "noxfile.py"}
INIT = '''"""reviewhoard: scrape and archive community reviews. The command is `hoard`
(reviewhoard.hoard.cli); the Scrapy project is reviewhoard.settings."""
'''


class BuildPy(build_py):
    """The root is the package `reviewhoard`: ship its modules but not setup.py, and give the
    wheel the __init__.py the checkout does not have (a regular package, not a namespace)."""

    def check_package(self, package: str, package_dir: str) -> str | None:
        if package == NAME:
            return None  # no __init__.py at the root, on purpose (it would confuse pytest)
        return super().check_package(package, package_dir)

    def find_package_modules(self, package: str, package_dir: str) -> list[tuple[str, str, str]]:
        found = super().find_package_modules(package, package_dir)
        if package != NAME:
            return found
        return [m for m in found if Path(m[2]).name not in NOT_MODULES]

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            init = Path(self.build_lib, NAME, "__init__.py")
            init.parent.mkdir(parents=True, exist_ok=True)
            init.write_text(INIT, encoding="utf-8")


setup(
    package_dir={NAME: "."},
    packages=[NAME] + [f"{NAME}.{p}" for p in find_packages(str(ROOT), exclude=NOT_SHIPPED)],
    cmdclass={"build_py": BuildPy},
    # Data files come from pyproject's package-data only (templates/ and static/ are not packages).
    include_package_data=False,
)
