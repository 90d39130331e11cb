#define EBM_SHIM_MODULE /* this file imports the NumPy C API */
#include "shim.h"

PyObject *py_version(PyObject *self, PyObject *args) { return PyUnicode_FromString(ebm_version()); }

PyObject *py_runtime_info(PyObject *self, PyObject *args) {
    ebm_runtime_info info;
    ebm_status status = ebm_runtime_info_get(&info);
    if (status != EBM_OK) return raise_status(status);
    return Py_BuildValue("{s:s,s:s,s:s,s:L,s:L}", "isa", info.isa, "blas_config", info.blas_config, "blas_core",
                         info.blas_core, "blas_num_threads", (long long)info.blas_num_threads, "chain_alignment",
                         (long long)info.chain_alignment);
}

/* ---- module ----------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"mlp_create", py_mlp_create, METH_VARARGS, NULL},
    {"gaussian_create", py_gaussian_create, METH_VARARGS, NULL},
    {"network_create", py_network_create, METH_VARARGS, NULL},
    {"energy_tensors", py_energy_tensors, METH_VARARGS, NULL},
    {"energy_dim", py_energy_dim, METH_VARARGS, NULL},
    {"energy_eval", py_energy_eval, METH_VARARGS, NULL},
    {"energy_grad_x", py_energy_grad_x, METH_VARARGS, NULL},
    {"energy_get_parameters", py_energy_get_parameters, METH_VARARGS, NULL},
    {"energy_set_parameters", py_energy_set_parameters, METH_VARARGS, NULL},
    {"energy_get_buffers", py_energy_get_buffers, METH_VARARGS, NULL},
    {"energy_set_buffers", py_energy_set_buffers, METH_VARARGS, NULL},
    {"energy_grad_params", py_energy_grad_params, METH_VARARGS, NULL},
    {"energy_jet", py_energy_jet, METH_VARARGS, NULL},
    {"energy_num_classes", py_energy_num_classes, METH_VARARGS, NULL},
    {"energy_logits", py_energy_logits, METH_VARARGS, NULL},
    {"energy_class_create", py_energy_class_create, METH_VARARGS, NULL},
    {"gaussian_mixture_create", py_gaussian_mixture_create, METH_VARARGS, NULL},
    {"double_well_create", py_double_well_create, METH_VARARGS, NULL},
    {"banana_create", py_banana_create, METH_VARARGS, NULL},
    {"callable_create", py_callable_create, METH_VARARGS, NULL},
    {"sample", py_sample, METH_VARARGS, NULL},
    {"sampler_kinds", py_sampler_kinds, METH_NOARGS, NULL},
    {"chains_create", py_chains_create, METH_VARARGS, NULL},
    {"chains_run", py_chains_run, METH_VARARGS, NULL},
    {"ais_log_z", py_ais_log_z, METH_VARARGS, NULL},
    {"ais_summarise", py_ais_summarise, METH_VARARGS, NULL},
    {"set_num_threads", py_set_num_threads, METH_VARARGS, NULL},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, NULL},
    {"trainer_create", py_trainer_create, METH_VARARGS, NULL},
    {"trainer_step", py_trainer_step, METH_VARARGS, NULL},
    {"trainer_sample_negatives", py_trainer_sample_negatives, METH_VARARGS, NULL},
    {"trainer_state", py_trainer_state, METH_VARARGS, NULL},
    {"trainer_get_state", py_trainer_get_state, METH_VARARGS, NULL},
    {"trainer_set_state", py_trainer_set_state, METH_VARARGS, NULL},
    {"version", py_version, METH_NOARGS, NULL},
    {"runtime_info", py_runtime_info, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "Private: the NumPy shim over libebm_swift's C ABI. Use the ebm_swift package instead.", -1,
    methods, NULL, NULL, NULL, NULL,
};

/* The ABI's codes, defined once in ebm_swift.h, as module attributes of the same names. */
static int add_codes(PyObject *m) {
#define CODE(name) \
    if (PyModule_AddIntConstant(m, #name, name) < 0) return -1;
    CODE(EBM_ACT_SWISH) CODE(EBM_ACT_TANH) CODE(EBM_ACT_SOFTPLUS) CODE(EBM_ACT_ELU) CODE(EBM_ACT_LEAKY_RELU)
    CODE(EBM_ACT_GELU) CODE(EBM_ACT_GELU_ERF)
#undef CODE
    return 0;
}

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m;
    import_array();
    m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    DivergenceError = PyErr_NewExceptionWithDoc(
        "ebm_swift.DivergenceError",
        "A NaN or infinity appeared during sampling or training.\n\n"
        "Attributes: site ('langevin', 'mala', 'hmc', 'ais', 'training'), quantity ('samples', 'energy',\n"
        "'gradient', 'parameters', 'log_weight'), step (1-based; 0 where none applies), chain (or None).",
        PyExc_FloatingPointError, NULL);
    if (DivergenceError == NULL || PyModule_AddObjectRef(m, "DivergenceError", DivergenceError) < 0 ||
        add_codes(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
