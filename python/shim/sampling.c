#include "shim.h"

/* ---- sampling --------------------------------------------------------------------------------- */

/* What a sampling call records: new arrays for the trajectory (thin > 0), the per-step statistics,
   the per-chain acceptance rates, divergences, step sizes and (with adapt_mass) inverse masses,
   and the ebm_sampler_output pointing into them. */
typedef struct {
    PyArrayObject *trajectory, *stats, *acceptance, *divergent, *step_size, *inverse_mass, *statistics;
    char layout[4096];
    ebm_sampler_output out;
} recording;

static int recording_init(recording *r, const ebm_record *sampler, npy_intp n, npy_intp dim, npy_intp steps,
                          npy_intp thin, int want_stats, int want_mass) {
    npy_intp tdims[3] = {thin > 0 ? steps / thin : 0, n, dim}, sdims[2] = {steps, 3}, mdims[2] = {n, dim};
    int64_t width = 0;
    ebm_status status;
    memset(r, 0, sizeof(*r));
    if ((status = ebm_sampler_statistics(sampler, dim, r->layout, sizeof r->layout, &width)) != EBM_OK) {
        raise_status(status);
        return -1;
    }
    if (width > 0) {
        npy_intp wdims[2] = {n, (npy_intp)width};
        if ((r->statistics = (PyArrayObject *)PyArray_ZEROS(2, wdims, NPY_FLOAT64, 0)) == NULL) return -1;
        r->out.statistics = (double *)PyArray_DATA(r->statistics);
    }
    r->out.thin = thin > 0 ? thin : 1;
    if (thin > 0) {
        if ((r->trajectory = (PyArrayObject *)PyArray_SimpleNew(3, tdims, NPY_FLOAT32)) == NULL) return -1;
        r->out.trajectory = (float *)PyArray_DATA(r->trajectory);
    }
    if (want_stats) {
        if ((r->stats = (PyArrayObject *)PyArray_SimpleNew(2, sdims, NPY_FLOAT64)) == NULL) return -1;
        r->out.step_stats = (double *)PyArray_DATA(r->stats);
    }
    if (want_mass) {
        if ((r->inverse_mass = (PyArrayObject *)PyArray_SimpleNew(2, mdims, NPY_FLOAT32)) == NULL) return -1;
        r->out.inverse_mass = (float *)PyArray_DATA(r->inverse_mass);
    }
    if ((r->acceptance = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64)) == NULL ||
        (r->divergent = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64)) == NULL ||
        (r->step_size = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT32)) == NULL)
        return -1;
    r->out.acceptance = (double *)PyArray_DATA(r->acceptance);
    r->out.n_divergent = (double *)PyArray_DATA(r->divergent);
    r->out.step_size = (float *)PyArray_DATA(r->step_size);
    return 0;
}

static void recording_clear(recording *r) {
    Py_XDECREF(r->trajectory);
    Py_XDECREF(r->stats);
    Py_XDECREF(r->acceptance);
    Py_XDECREF(r->divergent);
    Py_XDECREF(r->step_size);
    Py_XDECREF(r->inverse_mass);
    Py_XDECREF(r->statistics);
}

#define OR_NONE(a) ((a) ? (PyObject *)(a) : Py_None)

/* {"acceptance_rate", "n_divergent", "step_size", "inverse_mass", "trajectory", "stats", "statistics",
   "statistics_layout"} (None for what was not recorded; the kernel's statistics as an (n, width)
   array laid out as "name:width,..."). */
static PyObject *recording_result(recording *r) {
    return Py_BuildValue("{s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:s}", "acceptance_rate", (PyObject *)r->acceptance,
                         "n_divergent", (PyObject *)r->divergent, "step_size", (PyObject *)r->step_size,
                         "inverse_mass", OR_NONE(r->inverse_mass), "trajectory", OR_NONE(r->trajectory),
                         "stats", OR_NONE(r->stats), "statistics", OR_NONE(r->statistics),
                         "statistics_layout", r->layout);
}

/* The sampler's state array: a writeable C-contiguous float32 (n, dim) array the Python layer
   made (a fresh copy of x0), sampled in place. */
int check_state(PyArrayObject *x, npy_intp dim) {
    if (PyArray_TYPE(x) != NPY_FLOAT32 || !PyArray_IS_C_CONTIGUOUS(x) || !PyArray_ISWRITEABLE(x) ||
        PyArray_NDIM(x) != 2 || PyArray_DIM(x, 1) != dim || PyArray_DIM(x, 0) < 1) {
        PyErr_SetString(PyExc_TypeError, "x: expected a writeable C-contiguous float32 (n, dim) array");
        return -1;
    }
    return 0;
}

/* sample(handle, x, sampler, run, adaptation, thin, want_stats, progress) -> dict of recordings
   (see recording_result); x is sampled in place. sampler, run: (kind, dict) records; adaptation:
   a record or None. */
PyObject *py_sample(PyObject *self, PyObject *args) {
    PyObject *capsule, *sampler_obj, *run_obj, *adaptation_obj, *progress, *result = NULL;
    PyArrayObject *x;
    ebm_energy *e;
    record_storage sampler, run, adaptation;
    long long thin, n_steps;
    int want_stats, want_mass;
    npy_intp dim;
    poll_state poll;
    recording rec;
    ebm_status status;
    memset(&rec, 0, sizeof rec);
    memset(&sampler, 0, sizeof sampler);
    memset(&run, 0, sizeof run);
    memset(&adaptation, 0, sizeof adaptation);
    if (!PyArg_ParseTuple(args, "OO!OOOLLppO", &capsule, &PyArray_Type, &x, &sampler_obj, &run_obj, &adaptation_obj,
                          &n_steps, &thin, &want_stats, &want_mass, &progress))
        return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0 || check_state(x, dim) < 0) return NULL;
    if (record_from(sampler_obj, "sampler", &sampler) < 0 || record_from(run_obj, "run", &run) < 0 ||
        (adaptation_obj != Py_None && record_from(adaptation_obj, "adaptation", &adaptation) < 0))
        goto fail;
    if (n_steps < 1) {
        PyErr_SetString(PyExc_ValueError, "n_steps must be positive");
        goto fail;
    }
    if (recording_init(&rec, &sampler.record, PyArray_DIM(x, 0), dim, (npy_intp)n_steps, (npy_intp)thin, want_stats, want_mass) < 0)
        goto fail;
    poll_init(&poll, progress, capsule);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_sample(e, (float *)PyArray_DATA(x), PyArray_DIM(x, 0), &sampler.record, &run.record,
                        adaptation_obj != Py_None ? &adaptation.record : NULL, &rec.out, poll_signals, &poll);
    Py_END_ALLOW_THREADS
    result = status == EBM_OK ? recording_result(&rec) : raise_call_status(status, capsule);
fail:
    recording_clear(&rec);
    record_clear(&sampler);
    record_clear(&run);
    record_clear(&adaptation);
    return result;
}

/* ais_log_z(handle, transition, run, n_chains, base_mean, progress)
   -> (log_z, std_err, log_weights, acceptance, n_divergent); transition, run: records. */
PyObject *py_ais_log_z(PyObject *self, PyObject *args) {
    PyObject *capsule, *transition_obj, *run_obj, *mean_obj, *progress, *result = NULL;
    PyArrayObject *mean = NULL, *weights = NULL, *acceptance = NULL, *divergent = NULL;
    ebm_energy *e;
    record_storage transition, run;
    ebm_ais_output out;
    npy_intp dim, n;
    long long n_chains;
    poll_state poll;
    ebm_status status;
    memset(&out, 0, sizeof out);
    memset(&transition, 0, sizeof transition);
    memset(&run, 0, sizeof run);
    if (!PyArg_ParseTuple(args, "OOOLOO", &capsule, &transition_obj, &run_obj, &n_chains, &mean_obj, &progress))
        return NULL;
    if ((e = energy_from(capsule)) == NULL || energy_dim(e, &dim) < 0) return NULL;
    if (record_from(transition_obj, "transition", &transition) < 0 || record_from(run_obj, "run", &run) < 0) goto fail;
    mean = (PyArrayObject *)PyArray_FROM_OTF(mean_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    if (mean == NULL) goto fail;
    if (PyArray_NDIM(mean) != 1 || PyArray_DIM(mean, 0) != dim || n_chains < 1) {
        PyErr_SetString(PyExc_ValueError, "base_mean must be (dim,) and n_chains positive");
        goto fail;
    }
    n = (npy_intp)n_chains;
    weights = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    acceptance = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    divergent = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_FLOAT64);
    if (weights == NULL || acceptance == NULL || divergent == NULL) goto fail;
    out.log_weights = (double *)PyArray_DATA(weights);
    out.acceptance = (double *)PyArray_DATA(acceptance);
    out.n_divergent = (double *)PyArray_DATA(divergent);
    poll_init(&poll, progress, capsule);
    Py_BEGIN_ALLOW_THREADS
    status = ebm_ais_log_z(e, &transition.record, &run.record, (const double *)PyArray_DATA(mean), &out, poll_signals,
                           &poll);
    Py_END_ALLOW_THREADS
    if (status != EBM_OK) {
        raise_call_status(status, capsule);
        goto fail;
    }
    result = Py_BuildValue("(ddOOO)", out.log_z, out.std_err, (PyObject *)weights, (PyObject *)acceptance,
                           (PyObject *)divergent);
fail:
    record_clear(&transition);
    record_clear(&run);
    Py_XDECREF(mean);
    Py_XDECREF(weights);
    Py_XDECREF(acceptance);
    Py_XDECREF(divergent);
    return result;
}

/* ais_summarise(log_weights, dim, base_std) -> (log_z, std_err) */
PyObject *py_ais_summarise(PyObject *self, PyObject *args) {
    PyObject *weights_obj;
    PyArrayObject *weights;
    long long dim;
    double base_std, log_z = 0, std_err = 0;
    ebm_status status;
    if (!PyArg_ParseTuple(args, "OLd", &weights_obj, &dim, &base_std)) return NULL;
    weights = (PyArrayObject *)PyArray_FROM_OTF(weights_obj, NPY_FLOAT64, NPY_ARRAY_IN_ARRAY);
    if (weights == NULL) return NULL;
    if (PyArray_NDIM(weights) != 1 || PyArray_SIZE(weights) < 1) {
        Py_DECREF(weights);
        PyErr_SetString(PyExc_ValueError, "log_weights: expected a non-empty 1-d array");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    status = ebm_ais_summarise((const double *)PyArray_DATA(weights), PyArray_SIZE(weights), dim, base_std, &log_z,
                               &std_err);
    Py_END_ALLOW_THREADS
    Py_DECREF(weights);
    if (status != EBM_OK) return raise_status(status);
    return Py_BuildValue("(dd)", log_z, std_err);
}

/* sampler_kinds() -> the registered kernels' names, as a str "a,b,c" */
PyObject *py_sampler_kinds(PyObject *self, PyObject *args) { return PyUnicode_FromString(ebm_sampler_kinds()); }

PyObject *py_set_num_threads(PyObject *self, PyObject *args) {
    long long n;
    if (!PyArg_ParseTuple(args, "L", &n)) return NULL;
    ebm_set_num_threads(n);
    Py_RETURN_NONE;
}

PyObject *py_get_num_threads(PyObject *self, PyObject *args) {
    return PyLong_FromLongLong(ebm_get_num_threads());
}

