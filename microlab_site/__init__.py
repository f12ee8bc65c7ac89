import os

# Training multiplies small matrices one document at a time: BLAS threads cannot help, and
# on a busy machine they contend (measured 35x slower under load). One thread per process,
# set before NumPy is first imported (the settings, the workers and daphne all start here).
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
