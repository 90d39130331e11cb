/*
 * ebm_swift.h — the C ABI of libebm_swift.so.
 *
 * Conventions (every function):
 *   - Returns an ebm_status: EBM_OK (0) or a negative error code. On error, a message for the
 *     calling thread is available from ebm_last_error() until that thread's next failing call.
 *   - Arrays are float32, C-contiguous, row-major; a batch `x` of `n` points in dimension `dim`
 *     is `n * dim` floats. The caller owns every array it passes and keeps it alive for the call.
 *     The library never keeps a pointer to a caller's array after returning.
 *   - Objects cross as opaque handles made by a *_create function and ended by the matching
 *     *_destroy function (which accepts NULL). A handle may be used from several threads at
 *     once: reads of an energy run concurrently, writes (set_parameters, a trainer step's update)
 *     wait for them. Calls on one trainer are serialised.
 *   - Long calls take an optional poll callback: called about once per sampling step with
 *     `poll_ctx`; a non-zero return stops the call with EBM_ERR_INTERRUPTED and leaves every
 *     output and handle as it was before the call (outputs may hold partial results; handles
 *     are untouched).
 *   - No Swift error or trap escapes: invalid arguments are reported as EBM_ERR_INVALID_ARGUMENT.
 */
#ifndef EBM_SWIFT_H
#define EBM_SWIFT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: 0 is success, negatives are errors. */
typedef int32_t ebm_status;
#define EBM_OK 0
#define EBM_ERR_INVALID_ARGUMENT (-1)
#define EBM_ERR_DIVERGED (-2)     /* a NaN or Inf appeared during sampling or training */
#define EBM_ERR_INTERRUPTED (-3)  /* the poll callback asked to stop */
#define EBM_ERR_NULL_HANDLE (-4)
#define EBM_ERR_INTERNAL (-5)
#define EBM_ERR_OUT_OF_MEMORY (-6) /* an allocation the inputs asked for failed; nothing changed */

/* Activations of ebm_mlp_create. */
#define EBM_ACT_SWISH 0
#define EBM_ACT_TANH 1
#define EBM_ACT_SOFTPLUS 2
#define EBM_ACT_ELU 3
#define EBM_ACT_LEAKY_RELU 4 /* negative slope 0.2 */
#define EBM_ACT_GELU 5       /* tanh approximation */
#define EBM_ACT_GELU_ERF 6   /* exact: x Phi(x) (network layers) */

/* ---- settings records ------------------------------------------------------------------------
 * Every configuration crosses as a record: a kind and its settings by name. The library reads a
 * record strictly: a missing setting, an unknown one or one of the wrong type is
 * EBM_ERR_INVALID_ARGUMENT naming the record and the setting. Which settings each kind takes is
 * documented where the kind is defined (the core's kernel, objective and optimiser files, and the
 * Python records that fill them). */
#define EBM_SETTING_NONE 0    /* not set (Python's None) */
#define EBM_SETTING_INTEGER 1 /* integer; a seed carries its 64 bits */
#define EBM_SETTING_NUMBER 2  /* number */
#define EBM_SETTING_TEXT 3    /* text: UTF-8, NUL-terminated */
#define EBM_SETTING_ARRAY 4   /* array of count doubles */

typedef struct ebm_setting {
    const char *name;
    int32_t type; /* EBM_SETTING_* */
    int64_t integer;
    double number;
    const char *text;
    const double *array;
    int64_t count;
} ebm_setting;

typedef struct ebm_record {
    const char *kind; /* "" for a record with one kind */
    const ebm_setting *settings;
    int64_t count;
} ebm_record;

/* Opaque handles. */
typedef struct ebm_energy ebm_energy;
typedef struct ebm_trainer ebm_trainer;

/* Called about once per step by long calls, on the calling thread, with the fraction of the
 * work done so far (0 to 1); return non-zero to stop. May be NULL. */
typedef int32_t (*ebm_poll_fn)(void *poll_ctx, double progress);

/* A user energy (see ebm_callable_create): fill energies[i] = E(x_i) if energies is not NULL and
 * grad[i, :] = grad_x E(x_i) if grad is not NULL, for the n rows of x (n * dim floats); return 0,
 * or non-zero on failure (the library then sees NaN and stops with an error). */
typedef int32_t (*ebm_energy_fn)(void *ctx, const float *x, int64_t n, int64_t dim, float *energies,
                                 float *grad);

/* Sampling runs take three records:
 *   sampler     kind: a kernel's name ("langevin", "mala", "hmc", "barker", ...; ebm_sampler_kinds)
 *               with that kernel's settings (step_size, ...).
 *   run         n_steps (warm-up included), seed, chain_offset.
 *   adaptation  NULL, or: per-chain dual averaging of the step size towards target_accept during the
 *               first n_warmup steps (then frozen); adapt_mass (0 or 1) also estimates each chain's
 *               diagonal inverse mass (kernels with momenta). Counts and acceptance rates then cover
 *               the steps after warm-up.
 * The random numbers of chain i at step t depend only on (seed, chain_offset + i, t): chains
 * [k, k + m) of a run equal the rows of a run of those m chains with chain_offset = k, and no
 * result depends on the thread count. */

/* The registered kernels' names, separated by commas (static storage). */
const char *ebm_sampler_kinds(void);

/* Where a sampler writes what it records besides the final states; every pointer may be NULL. */
typedef struct ebm_sampler_output {
    float *trajectory;   /* (n_steps / thin, n, dim): the states after steps thin, 2 thin, ... */
    int64_t thin;        /* >= 1 */
    double *step_stats;  /* (n_steps, 3): mean energy and mean |grad_x E| at the start of each
                            step, and the fraction of chains that moved */
    double *acceptance;  /* (n,): each chain's acceptance rate after warm-up (1 for Langevin) */
    double *n_divergent; /* (n,): each chain's divergent trajectories after warm-up (HMC) */
    float *step_size;    /* (n,): each chain's step size at the end (the adapted one) */
    float *inverse_mass; /* (n, dim): each chain's inverse mass at the end (with adapt_mass) */
    double *statistics;  /* (n, width): the kernel's own per-chain statistics, laid out as
                            ebm_sampler_statistics says (width 0: none) */
} ebm_sampler_output;

/* The layout of a sampler record's per-chain statistics for energies of dim inputs, written to
 * layout (capacity bytes, NUL-terminated) as "name:width,name:width,..." ("" for none), and their
 * total width to *width. Each is the mean over the steps after warm-up (NUTS's tree_depth, ...) or
 * the value after the last step (replica exchange's swap_rate, ...), as the kernel's docs say. */
ebm_status ebm_sampler_statistics(const ebm_record *sampler, int64_t dim, char *layout, int64_t capacity,
                                  int64_t *width);

/* Annealed importance sampling: the run record holds n_chains, n_temps, n_steps (the transition's
 * steps at each inverse temperature t / n_temps), base_std, seed and chain_offset; chains start
 * from N(base_mean, base_std^2 I); the transition is a sampler record (not adapted). */

/* What an AIS estimate writes; the arrays (n_chains doubles each) may be NULL. */
typedef struct ebm_ais_output {
    double log_z;
    double std_err;
    double *log_weights;
    double *acceptance; /* accepted moves per chain over all transitions */
    double *n_divergent;
} ebm_ais_output;

/* A trainer takes four records:
 *   trainer    seed, data_noise, clip_grad_norm (none or > 0), ema_decay (none or in (0, 1)).
 *   optimizer  kind "adam" (lr, weight_decay, beta1, beta2, eps) or "sgd" (lr, weight_decay, momentum).
 *   objective  kind "ml" or "jem" (the negatives: n_steps sampler steps, persistent, buffer_size,
 *              reinit_prob, init_low, init_high, alpha; jem also cross_entropy_weight and
 *              class_conditional), "dsm" (sigmas), "ssm" (n_projections, projection "rademacher" or
 *              "gaussian"), "nce" (noise_mean, noise_cov, noise_ratio) or "drl" (sigmas, n_steps,
 *              step_scale).
 *   sampler    the negatives' kernel (as for ebm_sample, not adapted); NULL for objectives without
 *              negatives. */

/* Rows [start, start + count) of a step's negatives, which move on the model's energy
 * (class_index -1) or on class class_index's (JEM's class-conditional buffer). */
typedef struct ebm_negative_segment {
    int64_t start, count, class_index;
} ebm_negative_segment;

/* Moves a step's negatives outside the trainer (ebm_trainer_step's `negatives`; NULL: the trainer
 * moves them): x holds the rows x dim start states and receives the moved chains; the segments
 * cover the rows in order; a piece of a segment handed to ebm_trainer_sample_negatives must start
 * at a multiple of block_rows from the segment's start; parameters and buffers are the model's at
 * the step (valid during the call). Return 0, or non-zero to fail the step (EBM_ERR_INTERRUPTED;
 * the caller keeps its own error). */
typedef int32_t (*ebm_negatives_fn)(void *ctx, float *x, int64_t rows, int64_t dim,
                                    const ebm_negative_segment *segments, int64_t n_segments, int64_t block_rows,
                                    int64_t step, const float *parameters, int64_t n_parameters,
                                    const float *buffers, int64_t n_buffers);

/* What one training step measured. */
typedef struct ebm_train_stats {
    double loss;      /* the objective; for ML mean E(data) - mean E(model) + alpha (mean E(data)^2 + mean E(model)^2) */
    double e_data;    /* mean E(data) (DSM: of the perturbed data) */
    double e_model;   /* mean E(model samples); NaN without model samples (DSM, SSM) */
    double grad_norm; /* Euclidean norm of the parameter gradient */
} ebm_train_stats;

/* ---- errors and version ---------------------------------------------------------------------- */

/* The calling thread's last error message (never NULL; "" if none). Owned by the library, valid
 * until the same thread's next ebm_* call. */
const char *ebm_last_error(void);

/* What diverged, after a call returned EBM_ERR_DIVERGED on the calling thread: the site
 * ("langevin", "mala", "hmc", "ais", "training"), the quantity ("samples", "energy", "gradient",
 * "parameters", "log_weight"), the 1-based step (0 where none applies) and the chain (-1 when not
 * one chain's). The strings are static storage owned by the library. */
typedef struct ebm_divergence {
    const char *site;
    const char *quantity;
    int64_t step;
    int64_t chain;
} ebm_divergence;

/* Fills *out with the calling thread's last divergence (site and quantity "" if none). */
void ebm_last_divergence(ebm_divergence *out);

/* The library's version string, static storage. */
const char *ebm_version(void);

/* What this build runs with. Strings are static storage owned by the library. */
typedef struct ebm_runtime_info {
    const char *isa;          /* instruction set of this build: "baseline", "avx2", "avx512" (x86-64), "arm64" */
    const char *blas_config;  /* OpenBLAS's openblas_get_config(): version and build options */
    const char *blas_core;    /* OpenBLAS's openblas_get_corename(): the kernels it chose for this CPU */
    int64_t blas_num_threads; /* threads OpenBLAS uses per product (1 unless OPENBLAS_NUM_THREADS is set) */
    int64_t chain_alignment;  /* a run split into chain_offset pieces at multiples of this many chains
                                 gives the whole run's numbers bit for bit (every energy's chain blocks
                                 divide it) */
} ebm_runtime_info;

/* Fills *out. */
ebm_status ebm_runtime_info_get(ebm_runtime_info *out);

/* ---- energies ---------------------------------------------------------------------------------- */

/* A fully connected network R^dim -> R: layers of sizes hidden[0..n_hidden-1] with `activation`
 * between them, then a linear layer to one output. PyTorch nn.Linear default initialisation from
 * `seed`. On success *out owns a new handle; free it with ebm_energy_destroy. */
ebm_status ebm_mlp_create(int64_t dim, const int64_t *hidden, int64_t n_hidden, int32_t activation,
                          uint64_t seed, ebm_energy **out);

/* E(x) = 1/2 (x - mean)^T cov^-1 (x - mean). `mean` has dim floats, `cov` dim*dim floats (row-major,
 * symmetric positive definite, else EBM_ERR_INVALID_ARGUMENT). Both are copied. */
ebm_status ebm_gaussian_create(int64_t dim, const double *mean, const double *cov, ebm_energy **out);

/* E(x) = -ln sum_k w_k N(x; mean_k, cov_k): means k*dim, covs k*dim*dim, weights k (positive,
 * summing to one). Copied. */
ebm_status ebm_gaussian_mixture_create(int64_t dim, int64_t k, const double *means, const double *covs,
                                       const double *weights, ebm_energy **out);

/* E(x) = barrier (x0^2 - 1)^2 + 1/2 sum_{i>=1} x_i^2. */
ebm_status ebm_double_well_create(int64_t dim, double barrier, ebm_energy **out);

/* E(x) = x0^2 / (2 s^2) + 1/2 (x1 - b (x0^2 - s^2))^2 + 1/2 sum_{i>=2} x_i^2 (dim >= 2). */
ebm_status ebm_banana_create(int64_t dim, double curvature, double scale, ebm_energy **out);

/* An energy computed by fn(ctx, ...) on the whole batch (one call per sampling step, from the
 * calling thread). The library keeps fn and ctx until the handle is destroyed; the caller keeps
 * ctx alive that long. */
ebm_status ebm_callable_create(int64_t dim, ebm_energy_fn fn, void *ctx, ebm_energy **out);

/* Releases an energy handle. NULL is ignored. */
void ebm_energy_destroy(ebm_energy *energy);

/* Writes the input dimension to *out. */
ebm_status ebm_energy_dim(const ebm_energy *energy, int64_t *out);

/* The calling thread's poll callback for batch evaluations (energy_eval, energy_grad_x,
 * energy_grad_params, energy_jet, energy_logits): they go in chunks of at most 256 rows (fewer
 * for a costly network: about 2^28 multiply-adds of forward pass per chunk) and call `poll`
 * between chunks; network_create calls it between a spectral norm's power iterations. A non-zero
 * return stops the call with EBM_ERR_INTERRUPTED. NULL clears it. */
void ebm_set_thread_poll(ebm_poll_fn poll, void *poll_ctx);

/* energies[i] = E(x_i) for the n rows of x (n * dim floats); energies has n floats. */
ebm_status ebm_energy_eval(const ebm_energy *energy, const float *x, int64_t n, float *energies);

/* grad[i, :] = grad_x E(x_i) (n * dim floats); energies (n floats) is filled too unless NULL. */
ebm_status ebm_energy_grad_x(const ebm_energy *energy, const float *x, int64_t n, float *energies,
                             float *grad);

/* ---- networks ------------------------------------------------------------------------------------ */

/* An energy computed by a network of n_layers layers (which must end in one output per sample)
 * on inputs of shape input_shape[0..rank-1] (e.g. channels, height, width), initialised like
 * PyTorch's defaults from seed. Its parameters follow PyTorch's state_dict order. On success
 * *out owns a new handle; inconsistent shapes give EBM_ERR_INVALID_ARGUMENT naming the layer.
 * With n_classes >= 2 the network is a classifier ending in n_classes logits f(x), and the energy
 * is E(x) = -logsumexp f(x) (a joint energy model; see ebm_energy_logits, ebm_energy_class_create).
 *
 * layers holds one record per layer in pre-order, each read strictly by its kind:
 *   linear         in_features, out_features
 *   conv2d         in_channels, out_channels, kernel_size, stride, padding (arrays of two integers)
 *   avgpool2d      kernel_size, stride
 *   activation     function ("swish", "tanh", "softplus", "elu", "gelu", "gelu_erf")
 *   leaky_relu     negative_slope (0: ReLU)
 *   flatten        (no fields)
 *   residual       layers: x + block(x), the block being the next `layers` layers (their records follow)
 *   spectral_norm  n_power_iterations, eps: W / sigma(W) of the next layer (a linear or conv2d) */
ebm_status ebm_network_create(const int64_t *input_shape, int64_t rank, const ebm_record *layers,
                              int64_t n_layers, int64_t n_classes, uint64_t seed, ebm_energy **out);

/* A network energy's tensors, which = 0 its parameters or 1 its buffers, in the order of the flat
 * vectors (ebm_energy_get_parameters): names as PyTorch's state_dict ("0.weight",
 * "2.block.0.bias", "1.weight_u"), shapes. *count is their number; the first min(count, capacity)
 * are written to entries, whose names stay valid while the energy lives. Other energies have none. */
typedef struct ebm_tensor_entry {
    const char *name;
    int32_t ndim;
    int64_t shape[4];
} ebm_tensor_entry;
ebm_status ebm_energy_tensors(const ebm_energy *energy, int32_t which, ebm_tensor_entry *entries, int64_t capacity,
                              int64_t *count);

/* A classifier energy's number of classes (0 for other energies), and its logits: count = n * classes
 * floats, row-major. */
ebm_status ebm_energy_num_classes(const ebm_energy *energy, int64_t *out);
ebm_status ebm_energy_logits(const ebm_energy *energy, const float *x, int64_t n, float *logits, int64_t count);

/* The class-conditional energy E(x, y) = -f(x)[label] of a classifier energy, as a new handle that
 * shares the classifier's parameters (and keeps it alive): sampling it draws the model's samples of
 * that class. */
ebm_status ebm_energy_class_create(ebm_energy *energy, int64_t label, ebm_energy **out);

/* ---- parameters of trainable energies (MLPs and networks) -------------------------------------- */

/* Number of parameters, in the energy's flat order: for an MLP layers.0.weight (out x in,
 * row-major), layers.0.bias, layers.1.weight, ...; for a network its layers' tensors in order
 * (PyTorch's state_dict order). EBM_ERR_INVALID_ARGUMENT for an energy without parameters. */
ebm_status ebm_energy_num_parameters(const ebm_energy *energy, int64_t *out);

/* Copies the count parameters (count must equal ebm_energy_num_parameters) out of / into the energy. */
ebm_status ebm_energy_get_parameters(const ebm_energy *energy, float *params, int64_t count);
ebm_status ebm_energy_set_parameters(ebm_energy *energy, const float *params, int64_t count);

/* The energy's buffers: state that is not trained but changes in training (a spectral norm's
 * weight_u and weight_v, in the network's order). Same conventions as the parameters; 0 buffers
 * for an energy without any. */
ebm_status ebm_energy_num_buffers(const ebm_energy *energy, int64_t *out);
ebm_status ebm_energy_get_buffers(const ebm_energy *energy, float *values, int64_t count);
ebm_status ebm_energy_set_buffers(ebm_energy *energy, const float *values, int64_t count);

/* grad = grad_w of mean_i E(x_i, w) over the n rows of x, in the flat parameter order. */
ebm_status ebm_energy_grad_params(const ebm_energy *energy, const float *x, int64_t n, float *grad,
                               int64_t count);

/* Second-order derivatives along x + eps v (order 1 or 2) of the n rows of x and v (n * dim each):
 * outputs[0..n) = E(x_i), outputs[n..2n) = <grad_x E(x_i), v_i>, and for order 2
 * outputs[2n..3n) = v_i^T (Hessian_x E)(x_i) v_i. When grad is not NULL (count floats, the number
 * of parameters) it receives grad_w of sum_i sum_k weights[k] * outputs[k * n + i] (weights has
 * order + 1 entries): weights (0, 1) give grad_w sum_i <grad_x E(x_i), v_i>, what score matching
 * trains on. EBM_ERR_INVALID_ARGUMENT for an energy without parameters or another order. */
ebm_status ebm_energy_jet(const ebm_energy *energy, const float *x, const float *v, int64_t n, int32_t order,
                          const double *weights, float *outputs, float *grad, int64_t count);

/* ---- sampling ---------------------------------------------------------------------------------- */

/* Threads used by sampling (chains are split into blocks that depend only on n, so results do
 * not depend on this). Default: EBM_SWIFT_NUM_THREADS, else the number of online CPUs. */
void ebm_set_num_threads(int64_t n);
int64_t ebm_get_num_threads(void);

/* Runs config->n_steps steps of config->kernel on the n chains in x (n * dim floats), in place;
 * output may be NULL. */
ebm_status ebm_sample(const ebm_energy *energy, float *x, int64_t n, const ebm_record *sampler,
                      const ebm_record *run, const ebm_record *adaptation, const ebm_sampler_output *output,
                      ebm_poll_fn poll, void *poll_ctx);

/* Persistent chains: a sampler record checked once and the workspaces of n chains on one energy,
 * kept for many short runs (a run of one step then parses nothing and allocates nothing). The
 * states, the steps taken and the counts stay with the caller. ebm_chains_run moves the n chains
 * in x by n_steps steps as ebm_sample would with the same seed and chain_offset, continuing the
 * noise of chains that have taken step_offset steps: runs of n1 then n2 steps equal one run of
 * n1 + n2 steps bit for bit. accepted and divergent (n doubles each, may be NULL) are added to.
 * A kernel that carries values from step to step besides x (kinetic Langevin's momenta) reports
 * *carried_width floats per chain at creation; carried (carried_count = n * carried_width floats,
 * or NULL for a run that starts them afresh) receives them after a run, and is read back when step_offset > 0. One run at a time per
 * handle: a concurrent call fails with EBM_ERR_INVALID_ARGUMENT. The handle keeps the energy
 * alive; release it with ebm_chains_destroy. */
typedef struct ebm_chains ebm_chains;
ebm_status ebm_chains_create(ebm_energy *energy, const ebm_record *sampler, int64_t n, ebm_chains **out,
                             int64_t *carried_width);
ebm_status ebm_chains_run(ebm_chains *chains, float *x, int64_t n, int64_t n_steps, uint64_t seed, int64_t chain_offset,
                          int64_t step_offset, double *accepted, double *divergent, float *carried,
                          int64_t carried_count, ebm_poll_fn poll, void *poll_ctx);
void ebm_chains_destroy(ebm_chains *chains);

/* Annealed importance sampling of ln Z = ln integral exp(-E); base_mean has dim doubles. The
 * chains are global chains transition.chain_offset + i: chunks of an estimate run apart give its
 * log weights exactly, and ebm_ais_summarise combines them as the whole estimate does. */
ebm_status ebm_ais_log_z(const ebm_energy *energy, const ebm_record *transition, const ebm_record *run,
                         const double *base_mean, ebm_ais_output *out, ebm_poll_fn poll, void *poll_ctx);

/* ln Z and its standard error from n finite log weights of an AIS estimate in dimension dim with
 * base standard deviation base_std: the summary ebm_ais_log_z computes, for log weights gathered
 * from chunks. */
ebm_status ebm_ais_summarise(const double *log_weights, int64_t n, int64_t dim, double base_std, double *log_z,
                             double *std_err);

/* ---- training ---------------------------------------------------------------------------------- */

/* A trainer for a trainable energy, an MLP or a network (which it keeps alive and updates). The
 * persistent buffer starts uniform on [init_low, init_high]^dim. On success *out owns a new handle. */
ebm_status ebm_trainer_create(ebm_energy *energy, const ebm_record *trainer, const ebm_record *optimizer,
                              const ebm_record *objective, const ebm_record *sampler, ebm_trainer **out);

/* Releases a trainer. NULL is ignored. */
void ebm_trainer_destroy(ebm_trainer *trainer);

/* lr > 0 overrides the configured learning rate for this step (a schedule's value).
 * One maximum-likelihood step on the n data rows of x: n negatives drawn from the buffer without
 * replacement (each re-drawn from the uniform init box with probability reinit_prob), moved by
 * the sampler kernel, written back; then one optimiser step on the loss of ebm_train_stats with the
 * negatives held constant. Fills *stats. On any error the model, buffer and optimiser are
 * unchanged. Objectives other than ml and jem sample nothing. labels (n class
 * indices) are JEM's, and NULL for every other objective. */
ebm_status ebm_trainer_step(ebm_trainer *trainer, const float *x, int64_t n, const int32_t *labels, double lr,
                            ebm_train_stats *stats, ebm_poll_fn poll, void *poll_ctx,
                            ebm_negatives_fn negatives, void *negatives_ctx);

/* A replica's share of a step's negatives (distributed training): the n chains of x, which are
 * chains [chain_offset, chain_offset + n) of step `step`, are moved in place on the trainer's model
 * as it is (set its parameters and buffers to the request's first) on its energy (class_index -1)
 * or on class class_index's (a class-conditional buffer). chain_offset must be the request's
 * segment start plus a multiple of its block_rows; the result is then the local step's, bit for bit. */
ebm_status ebm_trainer_sample_negatives(ebm_trainer *trainer, float *x, int64_t n, int64_t chain_offset,
                                        int64_t class_index, int64_t step, ebm_poll_fn poll, void *poll_ctx);

/* The trainer's state by name, for saving and resuming a run: the optimiser's (step_count,
 * updates, first_moment, second_moment), averaged_parameters with ema_decay, objective_state for an
 * objective with parameters of its own (NCE: its log-normaliser c, its two moments), and the
 * objective's (ML and JEM: buffer, buffer_size x dim, and permutation). The model's parameters and
 * buffers are saved through the energy.
 *
 * ebm_trainer_state lists the entries: *count is their number, and the first min(count, capacity)
 * are written to entries (whose names stay valid while the trainer lives). get copies an entry out
 * and set replaces it (count must be the entry's; set checks the values first: finite, moments
 * non-negative, a permutation, counts in [0, 2^53]). */
typedef enum ebm_state_type { EBM_STATE_FLOAT32 = 1, EBM_STATE_INT64 = 2 } ebm_state_type;
typedef struct ebm_state_entry {
    const char *name;
    int32_t type;      /* an ebm_state_type */
    int32_t ndim;      /* 0 (a scalar), 1 or 2 */
    int64_t shape[2];
} ebm_state_entry;
ebm_status ebm_trainer_state(const ebm_trainer *trainer, ebm_state_entry *entries, int64_t capacity, int64_t *count);
ebm_status ebm_trainer_get_state(const ebm_trainer *trainer, const char *name, void *values, int64_t count);
ebm_status ebm_trainer_set_state(ebm_trainer *trainer, const char *name, const void *values, int64_t count);

#ifdef __cplusplus
}
#endif

#endif /* EBM_SWIFT_H */
