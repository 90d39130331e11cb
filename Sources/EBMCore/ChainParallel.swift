#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Runs the blocks of a `ChainBlocks` partition on several threads.
///
/// The helpers come from `WorkerPool` (parked between runs). The calling thread works too, and is
/// the only one that calls `poll` (a Python signal check
/// can only run there): about once per step while it works, and every 20 ms while it waits
/// for the other threads. A `true` from `poll` or an error in any block stops every thread at
/// its next step.
public enum ChainParallel {
    /// The number of threads sampling uses by default: `EBM_SWIFT_NUM_THREADS` if set, else the
    /// number of online processors. Changed with `setDefaultThreads`.
    public static var defaultThreads: Int { configuredThreads.load(ordering: .relaxed) }

    /// Sets `defaultThreads` (values below 1 become 1).
    public static func setDefaultThreads(_ n: Int) {
        configuredThreads.store(max(1, n), ordering: .relaxed)
    }

    private static let configuredThreads = Atomic<Int>(initialThreads())

    private static func initialThreads() -> Int {
        if let text = getenv("EBM_SWIFT_NUM_THREADS"), let n = Int(String(cString: text)), n > 0 {
            return n
        }
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Calls `body(block, worker, shouldStop)` once for every block, spreading blocks over
    /// `min(threads, blocks.count)` threads; `worker` in `0 ..< threads` names the thread, so the
    /// caller can give each its own workspace. `body` calls `shouldStop(true)` once per step, and each
    /// block takes `steps` steps: `poll` receives the fraction of all steps done so far; within a
    /// long step it may also call `shouldStop(false)`, which is not counted as a step.
    ///
    /// - Throws: `.interrupted` if `poll` asked to stop, else the first error a block threw.
    public static func run(
        _ blocks: ChainBlocks, threads: Int, steps: Int, poll: (Double) -> Bool,
        body: (_ block: Int, _ worker: Int, _ shouldStop: (_ newStep: Bool) -> Bool) throws -> Void
    ) throws {
        BLAS.threadingConfigured
        let workers = max(1, min(threads, blocks.count))
        let total = Double(max(1, blocks.count * steps))
        try withoutActuallyEscaping(poll) { poll in
            try withoutActuallyEscaping(body) { body in
                if workers == 1 {
                    var done = 0
                    for b in 0..<blocks.count {
                        try body(b, 0) { newStep in
                            if newStep { done += 1 }
                            return poll(Double(done - 1) / total)
                        }
                    }
                } else {
                    try runThreads(blocks, workers: workers, total: total, poll: poll, body: body)
                }
            }
        }
    }

    private static func runThreads(
        _ blocks: ChainBlocks, workers: Int, total: Double, poll: @escaping (Double) -> Bool,
        body: @escaping (Int, Int, (Bool) -> Bool) throws -> Void
    ) throws {
        let shared = SharedRun(blocks: blocks.count, body: body)
        let progress = { Double(shared.steps.load(ordering: .relaxed)) / total }
        var handles: [pthread_t] = []
        // The pool's parked threads; our own, as before, when another run holds the pool.
        let pooled = WorkerPool.shared.acquire(helpers: workers - 1)
        if let helpers = pooled {
            shared.expectWorkers(helpers)
            WorkerPool.shared.start(shared, helpers: helpers)
        }
        for w in 1..<workers where pooled == nil {
            var handle = pthread_t()
            let context = Unmanaged.passRetained(WorkerContext(shared, w)).toOpaque()
            if pthread_create(&handle, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.shared.work(worker: context.worker) { newStep in
                    if newStep { context.shared.steps.wrappingAdd(1, ordering: .relaxed) }
                    return context.shared.stop.load(ordering: .relaxed)
                }
                context.shared.finished()
                return nil
            }, context) == 0 {
                handles.append(handle)
            } else {
                Unmanaged<WorkerContext>.fromOpaque(context).release()  // run with fewer threads
            }
        }
        if pooled == nil { shared.expectWorkers(handles.count) }
        shared.work(worker: 0) { newStep in
            if shared.stop.load(ordering: .relaxed) { return true }
            if poll(progress()) { shared.interrupt() }
            if newStep { shared.steps.wrappingAdd(1, ordering: .relaxed) }
            return shared.stop.load(ordering: .relaxed)
        }
        shared.waitForWorkers { if !shared.stop.load(ordering: .relaxed), poll(progress()) { shared.interrupt() } }
        for h in handles { pthread_join(h, nil) }
        shared.forgetBody()
        if pooled != nil { WorkerPool.shared.release() }
        if shared.interrupted.load(ordering: .relaxed) { throw EBMError.interrupted }
        if let error = shared.firstError { throw error }
    }
}

private final class WorkerContext {
    let shared: SharedRun
    let worker: Int
    init(_ shared: SharedRun, _ worker: Int) { self.shared = shared; self.worker = worker }
}

/// State shared by the threads of one `ChainParallel.run`.
final class SharedRun: @unchecked Sendable {
    let blocks: Int
    /// The run's work; dropped by `forgetBody` once every thread is done, so that no helper still
    /// holding this object keeps the caller's (non-escaping) closure alive.
    private var body: ((Int, Int, (Bool) -> Bool) throws -> Void)?
    let next = Atomic<Int>(0)
    /// Steps started, over all blocks (for progress reports).
    let steps = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
    let interrupted = Atomic<Bool>(false)
    private var error: Error?
    private var running = 0
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(blocks: Int, body: @escaping (Int, Int, (Bool) -> Bool) throws -> Void) {
        self.blocks = blocks
        self.body = body
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(condition)
        mutex.deallocate()
        condition.deallocate()
    }

    var firstError: Error? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return error
    }

    /// After every thread has finished.
    func forgetBody() { body = nil }

    func interrupt() {
        interrupted.store(true, ordering: .relaxed)
        stop.store(true, ordering: .relaxed)
    }

    /// Takes blocks until none is left or a stop is requested.
    func work(worker: Int, shouldStop: (Bool) -> Bool) {
        while !stop.load(ordering: .relaxed) {
            let b = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if b >= blocks { return }
            do {
                try body!(b, worker, shouldStop)
            } catch {
                pthread_mutex_lock(mutex)
                if self.error == nil { self.error = error }
                pthread_mutex_unlock(mutex)
                stop.store(true, ordering: .relaxed)
            }
        }
    }

    func expectWorkers(_ n: Int) {
        pthread_mutex_lock(mutex)
        running += n
        pthread_mutex_unlock(mutex)
    }

    func finished() {
        pthread_mutex_lock(mutex)
        running -= 1
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until every worker has finished, calling `tick` every 20 ms meanwhile.
    func waitForWorkers(tick: () -> Void) {
        pthread_mutex_lock(mutex)
        while running > 0 {
            var deadline = timespec()
            clock_gettime(CLOCK_REALTIME, &deadline)
            deadline.tv_nsec += 20_000_000
            if deadline.tv_nsec >= 1_000_000_000 {
                deadline.tv_sec += 1
                deadline.tv_nsec -= 1_000_000_000
            }
            pthread_cond_timedwait(condition, mutex, &deadline)
            if running > 0 {
                pthread_mutex_unlock(mutex)
                tick()
                pthread_mutex_lock(mutex)
            }
        }
        pthread_mutex_unlock(mutex)
    }
}
