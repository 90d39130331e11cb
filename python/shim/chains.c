#include "shim.h"

/* ---- persistent chains ------------------------------------------------------------------------ */

static const char *CHAINS_CAPSULE = "ebm_swift.chains";

/* The chains' capsule holds the handle and, as its context, a reference to the energy's capsule
   (its callable's context must outlive every run). */
static void chains_capsule_destroy(PyObject *capsule) {
    PyObject *energy = (PyObject *)PyCapsule_GetContext(capsule);
    ebm_chains_destroy((ebm_chains *)PyCapsule_GetPointer(capsule, CHAINS_CAPSULE));
    Py_XDECREF(energy);
}

/* The data of a writeable C-contiguous array of `type` holding `count` values, or NULL for None
   (without an exception); -1 with an exception for anything else. */
static int out_array(PyObject *obj, int type, npy_intp count, void **out, const char *name) {
    PyArrayObject *a = (PyArrayObject *)obj;
    *out = NULL;
    if (obj == Py_None) return 0;
    if (!PyArray_Check(obj) || PyArray_TYPE(a) != type || !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISWRITEABLE(a) ||
        PyArray_SIZE(a) != count) {
        PyErr_Format(PyExc_TypeError, "%s: expected None or a writeable C-contiguous array of %zd %s", name,
                     (Py_ssize_t)count, type == NPY_FLOAT64 ? "float64" : "float32");
        return -1;
    }
    *out = PyArray_DATA(a);
    return 0;
}

/* chains_create(energy, sampler, n) -> (the chains' capsule, carried width); sampler: a (kind,
   dict) record; the width: floats per chain the kernel carries from run to run. */
PyObject *py_chains_create(PyObject *self, PyObject *args) {
    PyObject *energy_capsule, *sampler_obj, *capsule = NULL, *result = NULL;
    ebm_energy *e;
    ebm_chains *out = NULL;
    record_storage sampler;
    long long n;
    int64_t width = 0;
    ebm_status status;
    memset(&sampler, 0, sizeof sampler);
    if (!PyArg_ParseTuple(args, "OOL", &energy_capsule, &sampler_obj, &n)) return NULL;
    if ((e = energy_from(energy_capsule)) == NULL || record_from(sampler_obj, "sampler", &sampler) < 0) goto done;
    Py_BEGIN_ALLOW_THREADS
    status = ebm_chains_create(e, &sampler.record, n, &out, &width);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_status(status);
        goto done;
    }
    if ((capsule = PyCapsule_New(out, CHAINS_CAPSULE, chains_capsule_destroy)) == NULL) {
        ebm_chains_destroy(out);
        goto done;
    }
    Py_INCREF(energy_capsule);
    PyCapsule_SetContext(capsule, energy_capsule);
    result = Py_BuildValue("(NL)", capsule, (long long)width);
done:
    record_clear(&sampler);
    return result;
}

/* chains_run(chains, x, n_steps, seed, chain_offset, step_offset, accepted, divergent, carried, progress)
   -> None;
   x (n, dim) float32 is moved in place, accepted and divergent (float64 (n,) or None) added to,
   carried (float32 n × carried width, or None) read when step_offset > 0 and written; progress: a
   callable(fraction) or None. */
PyObject *py_chains_run(PyObject *self, PyObject *args) {
    PyObject *capsule, *energy_capsule, *accepted_obj, *divergent_obj, *carried_obj, *progress;
    PyArrayObject *x;
    ebm_chains *c;
    ebm_energy *e;
    long long n_steps, chain_offset, step_offset;
    unsigned long long seed;
    void *accepted, *divergent, *carried;
    npy_intp dim, carried_count;
    poll_state poll;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OO!LKLLOOOO", &capsule, &PyArray_Type, &x, &n_steps, &seed, &chain_offset,
                          &step_offset, &accepted_obj, &divergent_obj, &carried_obj, &progress))
        return NULL;
    if ((c = (ebm_chains *)PyCapsule_GetPointer(capsule, CHAINS_CAPSULE)) == NULL) return NULL;
    energy_capsule = (PyObject *)PyCapsule_GetContext(capsule);
    if (energy_capsule == NULL || (e = energy_from(energy_capsule)) == NULL || energy_dim(e, &dim) < 0 ||
        check_state(x, dim) < 0 || out_array(accepted_obj, NPY_FLOAT64, PyArray_DIM(x, 0), &accepted, "accepted") < 0 ||
        out_array(divergent_obj, NPY_FLOAT64, PyArray_DIM(x, 0), &divergent, "divergent") < 0)
        return NULL;
    /* carried: any size here; the library checks it against n × the kernel's width */
    carried_count = PyArray_Check(carried_obj) ? PyArray_SIZE((PyArrayObject *)carried_obj) : 0;
    if (out_array(carried_obj, NPY_FLOAT32, carried_count, &carried, "carried") < 0) return NULL;
    poll_init(&poll, progress, energy_capsule);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_chains_run(c, (float *)PyArray_DATA(x), PyArray_DIM(x, 0), n_steps, (uint64_t)seed, chain_offset,
                            step_offset, (double *)accepted, (double *)divergent, (float *)carried, carried_count,
                            poll_signals, &poll);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) return raise_call_status(status, energy_capsule);
    Py_RETURN_NONE;
}
