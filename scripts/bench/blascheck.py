"""Which BLAS this Python process uses, for the benchmark scripts.

Debian's python3-numpy and python3-torch call libblas.so.3, which on a
default install is the reference (netlib) BLAS: an unoptimized Fortran
loop, 10 to 20 times slower than OpenBLAS on the products these scripts
time. A user's numpy (a pip wheel) or torch brings an optimized BLAS, so a
timing made on the reference BLAS is not what a user would otherwise run.
After numpy (and torch) are imported, require_fast_blas() prints the BLAS
libraries mapped into the process and exits with an error when the only
one is the reference BLAS, unless allowed. OpenBLAS without touching the
system:

    apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb /tmp/openblas
    export LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread OPENBLAS_NUM_THREADS=2

(or `apt-get install libopenblas0-pthread`, which switches the system's
libblas.so.3).
"""
import os
import sys


# Names of the optimized BLAS libraries (OpenBLAS, MKL, BLIS, ATLAS,
# Apple's Accelerate).
OPTIMIZED = ("openblas", "mkl", "blis", "atlas", "accelerate")


def loaded_blas():
    """The real paths of the BLAS libraries mapped into this process: any
    mapped library whose name holds "blas" or one of OPTIMIZED."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f
                    if ".so" in line and any(k in line.lower() for k in ("blas",) + OPTIMIZED)}
    except OSError:
        return []
    return sorted({os.path.realpath(p) for p in libs if p.startswith("/")})


def is_reference(path):
    """Whether path is the reference BLAS: a libblas.so that no optimized
    library's name is part of (Debian's /usr/lib/<arch>/blas/libblas.so.3,
    Fedora's /usr/lib64/libblas.so.3)."""
    low = path.lower()
    return os.path.basename(low).startswith("libblas.so") and not any(k in low for k in OPTIMIZED)


def require_fast_blas(allow_reference=False, out=sys.stdout):
    """Prints the BLAS in use; exits when it is only the reference BLAS and
    allow_reference is false. Returns the list of libraries."""
    libs = loaded_blas()
    print("BLAS: %s" % (", ".join(libs) or "no BLAS library found in /proc/self/maps"), file=out, flush=True)
    if libs and all(is_reference(p) for p in libs) and not allow_reference:
        sys.exit("the only BLAS loaded is the reference BLAS (%s), 10-20x slower than what a user's numpy "
                 "or torch runs on; use OpenBLAS (see scripts/bench/blascheck.py) or pass "
                 "--allow-reference-blas to time it anyway" % ", ".join(libs))
    return libs
