// OpenBLAS's CBLAS interface. The include path comes from pkg-config (`openblas.pc`),
// which Debian's libopenblas-dev installs.
#include <cblas.h>
