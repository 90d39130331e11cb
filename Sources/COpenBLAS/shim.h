// OpenBLAS's CBLAS interface, from the `scipy-openblas32` wheel (the OpenBLAS that NumPy and
// SciPy build against: current releases, which know recent CPUs). Its symbols carry the prefix
// `scipy_` (`scipy_cblas_sgemm`, …). The build passes the wheel's include and library folders
// (`-Xcc -I…`, `-Xlinker -L…`); `setup.py` and the Makefile ask the wheel for them.
#include <cblas.h>
