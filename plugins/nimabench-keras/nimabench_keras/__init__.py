"""nimabench-keras: keras.applications backbones and a Keras 3 trainer, as a nimabench plugin.

Importing this package (and its ``plugin`` module, the entry point) imports neither Keras nor TensorFlow:
the catalogue is plain data and the framework is imported inside the methods that build, load or train.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nimabench-keras")
except PackageNotFoundError:  # a source tree that is not installed
    __version__ = "0.0.0+unknown"
