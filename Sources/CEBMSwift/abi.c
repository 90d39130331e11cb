// This target only carries the ABI header (include/ebm_swift.h), so that the Swift exports
// see the same structs and constants the Python shim uses. SwiftPM needs one source file.
#include "ebm_swift.h"
