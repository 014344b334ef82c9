"""The Keras plugin's tests run in a pytest process of their own, with only this plugin loaded.

TensorFlow and PyTorch must never share a process (importing tensorflow, then triton, segfaults), so nothing
here imports torch: the cross-framework test runs torch in a child process.
"""

import os

# Before nimabench.plugins loads anything: only this distribution's entry points, and quiet TensorFlow.
os.environ["NIMABENCH_LOAD_PLUGINS"] = "nimabench-keras"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
