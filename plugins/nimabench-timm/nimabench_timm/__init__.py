"""nimabench-timm: timm backbones, PyTorch loss kernels and the PyTorch trainer, as a nimabench plugin.

Importing this package (and its ``plugin`` module, the entry point) imports neither torch nor timm: the
registered objects import them in their methods, so ``nimabench list`` stays fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nimabench-timm")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0+unknown"
